"""The child process: imports the learner's code and serves the grader's requests.

Started by session.py as ``python -I -c "...main()" REQUEST_FD REPLY_FD``. The first message is
the import request; the child answers ``{"stage": "ready"}`` once its own setup is done (so the
grader can tell a broken environment from a broken submission), then applies the resource limits,
imports the learner's module and answers with the import result. After that it serves "call" and
"getattr" requests until the request pipe closes. It only ever reports what learner code did; the
grader decides pass/fail in its own process.

Everything used after the learner's import is bound before it (see protocol.py), and learner
exceptions are caught around every piece of learner code, including ``str()`` of exceptions.
"""

from __future__ import annotations

import builtins
import importlib
import linecache
import os
import resource
import sys
import traceback
from typing import Any

from grader.runner import fixtures as _fixtures
from grader.runner.protocol import (
    Channel,
    ChannelClosed,
    Decoder,
    Encoder,
    Handle,
    Unencodable,
    handle_tag,
    type_label,
)

# Functions defined below look builtins up in this private copy, not in the builtins module.
__builtins__ = dict(builtins.__dict__)

_import_module = importlib.import_module
_compile = compile
_open = open
_getline = linecache.getline
_os_exit = os._exit
_setrlimit, _getrlimit = resource.setrlimit, resource.getrlimit
_RLIM_INFINITY = resource.RLIM_INFINITY
_format_exc = traceback.format_exc
_sys = sys
#: The target name of grader.runner.fixtures, imported before any learner code runs.
FIXTURES = "fixture:"
_SEP = os.sep
_MISSING = object()
MAX_FRAMES = 20  # learner frames reported per error, innermost last
MAX_TEXT = 500  # characters kept of exception messages and source lines


class _Stale(Exception):
    """A request named an object id this process does not hold."""


def _dirname(path: str) -> str:
    return path.rpartition(_SEP)[0]


def _basename(path: str) -> str:
    return path.rpartition(_SEP)[2]


def _source_line(path: str, line: int) -> str:
    try:
        return _getline(path, line).strip()[:MAX_TEXT]
    except BaseException:
        return ""


def _safe_str(obj: object, limit: int = MAX_TEXT) -> str:
    """``str(obj)`` clipped, never raising (it may run learner code)."""
    try:
        text = str(obj)
        text = text if type(text) is str else "?"
    except BaseException:
        text = "<str() failed>"
    return text[:limit]


def _flush() -> None:
    for stream in (_sys.stdout, _sys.stderr, _sys.__stdout__, _sys.__stderr__):
        try:
            stream.flush()
        except BaseException:
            pass


def _apply_limits(limits: dict[str, int]) -> None:
    cpu = limits["cpu_seconds"]
    for res, soft, hard in (
        (resource.RLIMIT_AS, limits["memory_bytes"], limits["memory_bytes"]),
        (resource.RLIMIT_CPU, cpu, cpu + 1),
        (resource.RLIMIT_FSIZE, limits["file_bytes"], limits["file_bytes"]),
        (resource.RLIMIT_CORE, 0, 0),
    ):
        current = _getrlimit(res)[1]
        if current != _RLIM_INFINITY:
            hard = min(hard, current)
            soft = min(soft, hard)
        _setrlimit(res, (soft, hard))


#: Per architecture (os.uname().machine): the kernel's AUDIT_ARCH value and the numbers of
#: clone, unshare, clone3 and seccomp.
_SYSCALLS = {
    "x86_64": (0xC000003E, 56, 272, 435, 317),
    "aarch64": (0xC00000B7, 220, 97, 435, 277),
}
_CLONE_NEWUSER = 0x10000000


def _no_user_namespaces() -> bytes:
    """A seccomp filter (classic BPF) refusing, with EPERM, to make a user namespace (clone or
    unshare with CLONE_NEWUSER) and any syscall of a foreign ABI (x32, i386 through int 0x80);
    clone3, whose flags a filter cannot read, fails with ENOSYS, so that libc uses clone.
    Empty on an architecture it does not know."""
    import struct

    numbers = _SYSCALLS.get(os.uname().machine)
    if numbers is None:
        return b""
    arch, clone, unshare, clone3, _ = numbers
    ld, jeq, jge, and_, ret = 0x20, 0x15, 0x35, 0x54, 0x06
    allow, eperm, enosys = 0x7FFF0000, 0x00050000 | 1, 0x00050000 | 38
    program = [
        (ld, 0, 0, 4),  # 0: arch
        (jeq, 0, 10, arch),  # 1: foreign ABI -> 12
        (ld, 0, 0, 0),  # 2: syscall number
        (jge, 8, 0, 0x40000000),  # 3: x32 -> 12
        (jeq, 8, 0, clone3),  # 4: -> 13
        (jeq, 2, 0, unshare),  # 5: -> 8
        (jeq, 1, 0, clone),  # 6: -> 8
        (ret, 0, 0, allow),  # 7
        (ld, 0, 0, 16),  # 8: low half of the first argument (the flags)
        (and_, 0, 0, _CLONE_NEWUSER),  # 9
        (jeq, 0, 1, 0),  # 10: no CLONE_NEWUSER -> 11, else 12
        (ret, 0, 0, allow),  # 11
        (ret, 0, 0, eperm),  # 12
        (ret, 0, 0, enosys),  # 13
    ]
    return b"".join(struct.pack("=HBBI", *op) for op in program)


def _confine() -> None:
    """Learner code can never make a user namespace, in which it would be root with every
    capability (to mount a tmpfs of any size, or reach kernel code no unprivileged user
    reaches), whatever the sandbox: a seccomp filter, set on every thread and inherited by
    every process it starts. Best effort where the kernel has no seccomp."""
    program = _no_user_namespaces()
    if not program:
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        code = ctypes.create_string_buffer(program, len(program))

        class _Prog(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

        prog = _Prog(len(program) // 8, ctypes.addressof(code))
        libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS, required to set a filter
        seccomp = _SYSCALLS[os.uname().machine][4]
        # SECCOMP_SET_MODE_FILTER with SECCOMP_FILTER_FLAG_TSYNC: every thread
        if libc.syscall(seccomp, 1, 1, ctypes.byref(prog)) != 0:
            libc.prctl(22, 2, ctypes.byref(prog), 0, 0)  # PR_SET_SECCOMP, this thread only
    except (OSError, AttributeError):
        pass


def _error(kind: str, **fields: Any) -> dict[str, Any]:
    return {"ok": False, "error": {"kind": kind, **fields}}


def check_cells(source: str, cells: list) -> str | None:
    """Compile each notebook cell of ``source`` on its own (never run) and say where the first
    that does not compile fails (``"SyntaxError in cell 4, line 2: invalid syntax"``), or None.

    ``cells`` lists ``[cell number, first line, line count]`` (submission.SourceFile.cells). This
    runs here, in the child and under its limits, because compiling is what a hostile notebook
    makes expensive (megabytes of literals take gigabytes to compile): the grader never compiles.
    """
    lines = source.split("\n")
    for number, first, count in cells:
        text = "\n".join(lines[first - 1 : first - 1 + count]) + "\n"
        try:
            _compile(text, f"<cell {number}>", "exec", dont_inherit=True)
        except SyntaxError as e:
            where = f", line {e.lineno}" if e.lineno else ""
            return f"{type(e).__name__} in cell {number}{where}: {e.msg}"
        except (ValueError, RecursionError, MemoryError) as e:
            return f"SyntaxError in cell {number}: {e}"
    return None


class _Server:
    """Holds the learner's module and the objects the grader keeps Handles to."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.module: Any = None
        self.subdir = ""
        self.reply_bytes = self.header_bytes = 0
        self.objects: dict[int, object] = {}
        self.ids_by_object: dict[int, int] = {}
        self.next_id = 0
        self.current_id = 0  # id of the request being served

    def serve(self) -> None:
        header, _ = self.channel.recv()
        limits = header["limits"]
        self.subdir = header["dir"]
        self.next_id = header["id_base"]
        self.reply_bytes, self.header_bytes = limits["reply_bytes"], limits["header_bytes"]
        _apply_limits(limits)
        _confine()
        self.channel.send({"id": 0, "stage": "ready"}, [])
        self._send(0, self._import(header["module"], header.get("cells") or []))
        while True:
            try:
                request, arrays = self.channel.recv()
            except ChannelClosed:
                return
            self.current_id = request["id"]
            self._send(self.current_id, self._dispatch(request, arrays))

    def _send(self, request_id: int, reply: tuple[dict[str, Any], list]) -> None:
        header, arrays = reply
        limits = {"max_bytes": self.reply_bytes, "max_header": self.header_bytes}
        try:
            self.channel.send({"id": request_id, **header}, arrays, **limits)
        except Unencodable as e:
            error = _error("unserializable", desc=e.describe(), arg=None, big=True)
            self.channel.send({"id": request_id, **error}, [])

    def _import(self, module: str, cells: list) -> tuple[dict[str, Any], list]:
        if cells:
            try:
                path = self.subdir + _SEP + module + ".py"
                with _open(path, encoding="utf-8", errors="surrogatepass") as f:
                    problem = check_cells(f.read(), cells)
            except MemoryError:
                problem = "SyntaxError: the notebook is too large to compile"
            if problem is not None:
                return _error("syntax", msg=problem[:MAX_TEXT]), []
        _sys.path.insert(0, self.subdir)
        try:
            self.module = _import_module(module)
        except BaseException as e:
            return self._exception(e), []
        finally:
            _flush()
        try:
            names = [k for k in vars(self.module) if type(k) is str and not k.startswith("__")]
        except BaseException:  # the module replaced itself in sys.modules by something odd
            names = []
        return {"ok": True, "names": names}, []

    def _dispatch(self, request: dict[str, Any], arrays: list) -> tuple[dict[str, Any], list]:
        try:
            decode = Decoder(arrays, self._resolve)
            target = self._target(request["target"])
            if request["op"] == "getattr":
                try:
                    value = self._attribute(target, request["name"], _owner(target))
                finally:
                    _flush()
                return self._result(value, request["keep"], None)
            method = request["method"]
            fn = target if method is None else self._attribute(target, method, _owner(target))
            args, kwargs = decode(request["args"]), decode(request["kwargs"])
            decode.finish()
        except _Stale:
            return _error("stale"), []
        except _Missing as e:
            return _error("not_found", name=e.name, owner=e.owner, near=e.near), []
        except _LearnerFault as e:
            return self._exception(e.error), []
        try:
            result = fn(*args, **kwargs)
        except BaseException as e:
            return self._exception(e), []
        finally:
            _flush()
        return self._result(result, request["keep"], args if request["return_args"] else None)

    def _target(self, target: list) -> object:
        kind, value = target
        if kind == "handle":
            return self._resolve(value, "")
        if value == FIXTURES:
            return _fixtures
        return self._attribute(self.module, value, None)

    def _attribute(self, obj: object, name: str, owner: str | None) -> object:
        """``getattr(obj, name)``. Raises _Missing if there is no such attribute (``owner`` names
        obj in the message; None for the learner's module), _LearnerFault if learner code raised
        while looking it up."""
        try:
            return getattr(obj, name)
        except BaseException as e:
            if isinstance(e, AttributeError) and not self._has_static(obj, name):
                raise _Missing(name, owner, _defined_names(obj) if owner else None) from None
            raise _LearnerFault(e) from None

    @staticmethod
    def _has_static(obj: object, name: str) -> bool:
        import inspect

        try:
            return inspect.getattr_static(obj, name, _MISSING) is not _MISSING
        except BaseException:
            return False

    def _result(self, value: object, keep: bool, args: list | None) -> tuple[dict[str, Any], list]:
        encode = Encoder(self._ref)
        try:
            encoded = self._keep(value) if keep else self._encode(encode, value)
            reply = {"ok": True, "value": encoded}
            if args is not None:
                reply["args"] = [self._encode(encode, a, i) for i, a in enumerate(args)]
        except _Failed as e:
            return e.reply, []
        return reply, encode.arrays

    def _encode(self, encode: Encoder, value: object, arg: int | None = None) -> Any:
        try:
            return encode(value)
        except Unencodable as e:
            big = {"big": True} if e.big else {}
            raise _Failed(_error("unserializable", desc=e.describe(), arg=arg, **big)) from None
        except BaseException as e:  # MemoryError while copying, or learner code run by numpy
            raise _Failed(self._exception(e)) from None

    def _keep(self, value: object) -> dict[str, Any]:
        handle_id, self.next_id = self.next_id, self.next_id + 1
        self.objects[handle_id] = value
        self.ids_by_object[id(value)] = handle_id
        return handle_tag(handle_id, type_label(type(value)))

    def _ref(self, obj: object) -> Handle | None:
        handle_id = self.ids_by_object.get(id(obj))
        if handle_id is None or self.objects.get(handle_id) is not obj:
            return None
        return Handle(handle_id, type_label(type(obj)))

    def _resolve(self, handle_id: int, _type_name: str) -> object:
        try:
            return self.objects[handle_id]
        except KeyError:
            raise _Stale from None

    def _exception(self, e: BaseException) -> dict[str, Any]:
        frames = self._frames(e.__traceback__)
        kind, message = "exception", _safe_str(e)
        if isinstance(e, SyntaxError):
            try:
                filename = _safe_str(e.filename)
                if _dirname(filename) == self.subdir:
                    line = e.lineno if type(e.lineno) is int else 0
                    frames.append([_basename(filename), line, "", _safe_str(e.text or "").strip()])
                    message = _safe_str(e.msg)
            except BaseException:  # a learner subclass with odd attributes
                pass
        if isinstance(e, NotImplementedError):
            kind = "not_implemented"
        elif isinstance(e, MemoryError):
            kind = "memory"
        elif isinstance(e, SystemExit):
            kind, message = "exit", _safe_str(_repr(e.code))
        return _error(kind, type=_public_type_name(type(e)), msg=message, frames=frames)

    def _frames(self, tb: Any) -> list[list]:
        """``[file, line, function, source line]`` for each learner frame, innermost last."""
        found = []
        while tb is not None:
            code = tb.tb_frame.f_code
            if _dirname(code.co_filename) == self.subdir:
                line = tb.tb_lineno if type(tb.tb_lineno) is int else 0
                found.append((code.co_filename, line, code.co_name))
            tb = tb.tb_next
        return [
            [_basename(path), line, _safe_str(name), _source_line(path, line)]
            for path, line, name in found[-MAX_FRAMES:]
        ]


def _public_type_name(cls: type) -> str:
    """The name of ``cls`` or of its nearest base whose name is not private (numpy raises
    ``_ArrayMemoryError``, which learners know as MemoryError)."""
    try:
        mro = type.__dict__["__mro__"].__get__(cls)
    except BaseException:
        mro = (cls,)
    for base in mro:
        name = type_label(base)
        if not name.startswith("_"):
            return name
    return type_label(cls)


def _owner(obj: object) -> str:
    return type_label(type(obj))


def _repr(value: object) -> str:
    try:
        return repr(value)
    except BaseException:
        return "?"


class _Missing(Exception):
    def __init__(self, name: str, owner: str | None, near: list[str] | None = None) -> None:
        super().__init__(name)
        self.name, self.owner, self.near = name, owner, near or []


def _defined_names(obj: object) -> list[str]:
    """Up to 200 attribute names ``obj``'s classes and instance define, read without running
    any of its code (for "did you mean")."""
    names: list[str] = []
    try:
        klasses = type.__getattribute__(type(obj), "__mro__")
        for klass in klasses:
            names += [k for k in type.__getattribute__(klass, "__dict__") if type(k) is str]
        names += [k for k in object.__getattribute__(obj, "__dict__") if type(k) is str]
    except BaseException:
        pass
    return [n for n in dict.fromkeys(names) if not n.startswith("__")][:200]


class _Failed(Exception):
    def __init__(self, reply: dict[str, Any]) -> None:
        super().__init__()
        self.reply = reply


class _LearnerFault(Exception):
    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error


def main() -> None:
    """Entry point: ``sys.argv[1:]`` are the request and reply pipe descriptors."""
    request_fd, reply_fd = int(sys.argv[1]), int(sys.argv[2])
    for fd in (request_fd, reply_fd):
        os.set_inheritable(fd, False)
    sys.dont_write_bytecode = True
    try:  # so that what the learner printed before a timeout or crash is not lost
        sys.stdout.reconfigure(line_buffering=True)
    except (AttributeError, ValueError):
        pass
    channel = Channel(request_fd, reply_fd, trusted=True)
    server = _Server(channel)
    try:
        server.serve()
    except ChannelClosed:
        pass
    except BaseException:
        # A bug here, or learner code tampering with this process: tell the grader, then stop.
        try:
            report = _format_exc()[-4000:]
        except BaseException:
            report = "the child's error could not be formatted"
        try:
            channel.send({"id": server.current_id, "internal": report}, [])
        except BaseException:
            pass
    _flush()
    _os_exit(0)
