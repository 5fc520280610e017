"""Run the learner's code in a child process and call into it from the grader.

A Session owns at most one child process at a time (see child.py for its side). The child runs in
its own process group with resource limits, a scratch folder as cwd and HOME, a minimal
environment, stdin from /dev/null and stdout+stderr captured through one pipe. Requests and replies
travel over two private pipes (protocol.py); the parent validates every reply and never unpickles.

Learner faults never raise here: they come back as ``Reply.error`` (a LearnerError). Grader bugs
(an argument that cannot be sent, using a closed Session) raise. A Session is not thread-safe.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import grader
from grader.i18n import N_, _
from grader.runner import cgroups
from grader.runner.limits import Limits
from grader.runner.protocol import (
    Channel,
    ChannelClosed,
    DeadlineExceeded,
    Decoder,
    Encoder,
    Handle,
    ProtocolError,
    TooLarge,
    Unencodable,
)
from grader.runner.sandbox import NO_SANDBOX, Sandbox, learner_id
from grader.runner.submission import SourceFile, Submission, SubmissionError, collect_sources

__all__ = ["Handle", "LearnerError", "Reply", "Session", "remove_stale_runs"]

_ROOT = str(Path(grader.__file__).resolve().parent.parent)
_BOOT = (
    f"import sys; sys.path.insert(0, {_ROOT!r}); import grader.runner.child as c; "
    f"sys.path.remove({_ROOT!r}); c.main()"
)
_DEFAULT_LIMITS = Limits()
_RUN_VAR = "BACKPROP_LAB_RUN"  # marks every process of one child, to find escaped grandchildren
_EXIT_GRACE = 2.0  # seconds a process whose channel closed gets to finish exiting
_OUTPUT_CHUNK = 1 << 20
_TEXT_CHARS = 200  # exception messages are clipped to this many characters
_FRAMES_SHOWN = 10  # learner frames in LearnerError.detail
_KINDS_WITH_TRACEBACK = frozenset({"exception", "not_implemented", "memory", "exit"})
_STALE = N_("this {type}object is gone: your code was restarted after a timeout or crash")
_NOT_SENDABLE = N_("; the grader can only use numbers, strings, numpy arrays, lists, tuples "
                   "and dicts")
_IMPORT_FAILED = N_("could not import your code: {reason}")


def import_failed(reason: str) -> str:
    """The message of a submission that does not import, for ``reason``."""
    return _(_IMPORT_FAILED).format(reason=reason)


def import_reason(message: str) -> str:
    """``import_failed``'s ``reason`` back from its message."""
    return message.removeprefix(import_failed(""))


@dataclass(frozen=True)
class LearnerError:
    """Something the learner's code did wrong, described for the learner.

    ``kind`` is one of "exception", "not_implemented", "timeout", "crashed", "memory",
    "not_found", "unserializable", "import", "stale". ``message`` is one line; ``detail`` is a
    short traceback of the learner's own frames (notebook lines shown as "cell N, line M").
    For kind "import", ``cause`` says what went wrong while importing: "timeout", "crashed",
    "memory", "exception", "exit" or "unreadable". For kind "exception", ``exception`` is the
    class name of what was raised and ``text`` its message (both clipped).
    """

    kind: str
    message: str
    detail: str = ""
    cause: str = ""
    exception: str = ""
    text: str = ""
    line: str = ""


@dataclass
class Reply:
    """The outcome of one call: a decoded ``value``, or an ``error``.

    ``args_after`` (with ``return_args=True``) holds the positional arguments as they were after
    the call, to detect in-place modification.
    """

    value: object = None
    error: LearnerError | None = None
    args_after: list | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class _Internal(Exception):
    """The child reported a failure of its own machinery."""


class Session:
    """The learner's code imported in a child process, ready to be called.

    Use as a context manager, or call start() and close(). Calls after a timeout or crash restart
    the child transparently; Handles from before then give LearnerError kind "stale". A target
    that timed out once fails at once with the same error for the rest of the Session.
    The child runs inside ``sandbox`` (see sandbox.py; by default none).
    """

    def __init__(
        self, submission: Submission, limits: Limits = _DEFAULT_LIMITS,
        sandbox: Sandbox = NO_SANDBOX,
    ) -> None:
        self.submission = submission
        self.limits = limits
        self.sandbox = sandbox
        self.import_error: LearnerError | None = None
        self._output = _Output(limits.output_bytes)
        self._files: dict[str, SourceFile] = {}
        self._child: _Child | None = None
        self._started = False
        self._closed = False
        self._names: frozenset[str] = frozenset()
        self._timed_out: dict[str, LearnerError] = {}
        self._key = secrets.randbits(15)  # Handle ids: key << 48 | generation << 32 | counter
        self._generation = 0
        self._request_id = 0
        self._token = secrets.token_hex(16)

    def __enter__(self) -> Session:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        """Spawn the child and import the submission, once. Learner faults set import_error."""
        if self._closed:
            raise RuntimeError("this Session is closed")
        if self._started:
            return
        self._started = True
        try:
            self._files = {f.filename: f for f in collect_sources(self.submission)}
        except SubmissionError as e:
            self.import_error = LearnerError(
                "import", import_failed(str(e)), cause="unreadable"
            )
            return
        self._spawn()

    def close(self) -> None:
        """Kill the child's whole process group and remove its scratch folder. Idempotent."""
        self._closed = True
        self._discard_child()

    def has(self, name: str) -> bool:
        """Whether the learner's module defines ``name`` (False if importing it failed)."""
        if not self._closed:
            self.start()
        return self.import_error is None and name in self._names

    @property
    def output(self) -> str:
        """Captured stdout+stderr of all child runs so far, capped at limits.output_bytes.

        Paths into the child's scratch copy of the submission are shortened to the file's name
        (``ex01_activations.py:12: RuntimeWarning ...``), which is what the learner knows.
        """
        return _SCRATCH_PATH.sub("", self._output.text())

    def call(
        self,
        target: str | Handle,
        *args: Any,
        method: str | None = None,
        keep: bool = False,
        return_args: bool = False,
        **kwargs: Any,
    ) -> Reply:
        """Call module attribute ``target`` (or the object behind a Handle, or its ``method``).

        Arguments may contain Handles and encodable values (None, bool, int, float, str, numpy
        arrays and scalars, lists, tuples, dicts with str keys); anything else raises TypeError.
        With ``keep=True`` the value is a Handle to the result, whatever it is.
        """
        if isinstance(target, Handle):
            what = f"{target.type_name}.{method or '__call__'}"
            wire_target: list = ["handle", target.id]
        elif not isinstance(target, str):
            raise TypeError(f"target must be a name or a Handle, not {type(target).__name__}")
        else:
            what = f"{target}.{method}" if method else target
            wire_target = ["name", target]
        request = {"op": "call", "target": wire_target, "method": method, "keep": bool(keep)}
        request["return_args"] = bool(return_args)
        return self._request(what, request, target, args=list(args), kwargs=kwargs)

    def getattr(self, target: str | Handle, name: str, keep: bool = False) -> Reply:
        """The attribute ``name`` of the object behind a Handle (or of module attribute target)."""
        if isinstance(target, Handle):
            what, wire_target = f"{target.type_name}.{name}", ["handle", target.id]
        else:
            what, wire_target = f"{target}.{name}", ["name", target]
        request = {"op": "getattr", "target": wire_target, "name": name, "keep": bool(keep)}
        return self._request(what, request, target)

    # -- internals -------------------------------------------------------------------------

    def _request(self, what: str, request: dict[str, Any], target: object, **values: Any) -> Reply:
        if self._closed:
            raise RuntimeError("this Session is closed")
        self.start()
        if self.import_error is None and what not in self._timed_out and self._child is None:
            self._spawn()
        if self.import_error is not None:
            return Reply(error=self.import_error)
        if what in self._timed_out:
            return Reply(error=self._timed_out[what])
        stale = next((h for h in _handles((target, values)) if not self._is_current(h)), None)
        if stale is not None:
            return Reply(error=LearnerError(
                "stale", _(_STALE).format(type=f"{stale.type_name} ")))
        encode = Encoder()
        try:
            request.update({name: encode(value) for name, value in values.items()})
        except Unencodable as e:
            raise TypeError(f"cannot send {e.describe()} to the learner's code") from None
        self._request_id += 1
        request["id"] = self._request_id
        child = self._child
        assert child is not None
        deadline = time.monotonic() + self.limits.call_timeout
        try:
            child.channel.send(request, encode.arrays, deadline)
            header, arrays = self._receive(child, self._request_id, deadline)
            return self._reply(header, arrays, what)
        except DeadlineExceeded:
            error = LearnerError(
                "timeout", _("timed out after {seconds} (an endless loop?)").format(
                    seconds=self._seconds(False))
            )
            self._timed_out[what] = error
        except ChannelClosed:
            error = self._crash(child.wait_exit(_EXIT_GRACE), what)
        except TooLarge as e:  # refused before it was read: the channel is out of step
            error = LearnerError("unserializable", _too_much(what, e.what))
        except (ProtocolError, _Internal):
            error = LearnerError(
                "crashed", _("your code wrote to the grader's channel or corrupted it")
            )
        except BaseException:
            self._discard_child()
            raise
        self._discard_child()
        return Reply(error=error)

    def _spawn(self) -> None:
        """Start a child and import the submission; on failure set import_error."""
        self._generation += 1
        deadline = time.monotonic() + self.limits.import_timeout
        child = _Child(
            list(self._files.values()), self.limits, self._output, self._token, self.sandbox
        )
        limits = self.limits
        request = {
            "id": 0,
            "op": "import",
            "module": self.submission.module,
            "cells": self._cells(),
            "dir": child.subdir,
            "id_base": self._id_prefix() << 32,
            "limits": {
                "cpu_seconds": int(limits.cpu_seconds),
                "memory_bytes": int(limits.memory_bytes),
                "file_bytes": int(limits.file_bytes),
                "reply_bytes": int(limits.reply_bytes),
                "header_bytes": self._header_bytes(),
            },
        }
        ready = False
        try:
            child.channel.send(request, [], deadline)
            header, _arrays = self._receive(child, 0, deadline)
            if header.get("stage") != "ready":
                raise ProtocolError("expected the ready message")
            ready = True
            header, _arrays = self._receive(child, 0, deadline)
            error = self._import_result(header)
        except DeadlineExceeded:
            seconds = self._seconds(True)
            error = LearnerError(
                "import",
                import_failed(_("timed out after {seconds} during import (an endless loop "
                                "at top level?)").format(seconds=seconds)),
                cause="timeout",
            )
        except (ChannelClosed, _Internal) as e:
            code = child.wait_exit(_EXIT_GRACE) if isinstance(e, ChannelClosed) else None
            if not ready:
                child.kill()
                raise RuntimeError(
                    "the grader's child process failed to start; its output was:\n"
                    + self.output[-2000:]
                    + (f"\n{e}" if isinstance(e, _Internal) else "")
                ) from None
            error = self._crash(code, None)
        except TooLarge as e:
            error = LearnerError(
                "import", import_failed(_too_large_module(e.what)), cause="unreadable",
            )
        except ProtocolError:
            error = LearnerError(
                "import", import_failed(_("it wrote to the grader's channel")),
                cause="crashed",
            )
        except BaseException:
            child.kill()
            raise
        if error is None:
            self._child = child
        else:
            child.kill()
            self.import_error = self._with_version_hint(error)

    def _with_version_hint(self, error: LearnerError) -> LearnerError:
        """``error``, said in terms of Python versions when it is syntax of a newer Python."""
        from grader.checks.explain import newer_python

        if error.cause not in ("exception", "unreadable"):
            return error
        for source in self._files.values():
            hint = newer_python(source.data.decode("utf-8", "replace"), error.message)
            if hint is not None:
                return replace(error, message=import_failed(
                    f"{hint} ({import_reason(error.message)})"))
        return error

    def _cells(self) -> list[list[int]]:
        """The graded notebook's code cells, for the child's syntax check (none for a .py)."""
        graded = self._files.get(f"{self.submission.module}.py")
        return [list(cell) for cell in graded.cells] if graded is not None else []

    def _import_result(self, header: dict[str, Any]) -> LearnerError | None:
        if header.get("ok") is True:
            names = header.get("names")
            if type(names) is not list or not all(type(n) is str for n in names):
                raise ProtocolError("bad name list")
            self._names = frozenset(names)
            return None
        return self._error_from(header, None)

    def _receive(
        self, child: _Child, request_id: int, deadline: float
    ) -> tuple[dict[str, Any], list]:
        header, arrays = child.channel.recv(
            deadline,
            expect_id=request_id,
            max_bytes=self.limits.reply_bytes,
            max_header=self._header_bytes(),
        )
        if "internal" in header:
            raise _Internal(str(header["internal"])[-2000:])
        return header, arrays

    def _reply(self, header: dict[str, Any], arrays: list, what: str) -> Reply:
        if header.get("ok") is not True:
            return Reply(error=self._error_from(header, what))
        if "value" not in header:
            raise ProtocolError("reply without a value")
        decode = Decoder(arrays, self._make_handle)
        value = decode(header["value"])
        args_after = header.get("args")
        if args_after is not None:
            if type(args_after) is not list:
                raise ProtocolError("bad argument list")
            args_after = decode(args_after)
        decode.finish()
        return Reply(value=value, args_after=args_after)

    def _error_from(self, header: dict[str, Any], what: str | None) -> LearnerError:
        """The LearnerError for an error reply; ``what`` is the target, None during import."""
        err = header.get("error")
        if header.get("ok") is not False or type(err) is not dict:
            raise ProtocolError("malformed reply")
        kind = err.get("kind")
        if kind == "stale":
            return LearnerError("stale", _(_STALE).format(type=""))
        if kind == "syntax" and what is None:  # a notebook cell that does not compile
            text = _text(err.get("msg"), 500)
            return LearnerError("import", import_failed(text),
                                cause="unreadable")
        if kind == "not_found":
            name, owner = _text(err.get("name")), err.get("owner")
            from grader.checks.explain import did_you_mean

            offered = err.get("near") if owner is not None else sorted(self._names)
            if type(offered) is not list:
                offered = []
            near = did_you_mean(name, [n for n in offered[:200] if type(n) is str])
            hint = ""
            if near:
                hint = _("; your code defines {near}: rename it to {name}").format(
                    near=_text(near, 60), name=name)
            cause = "misspelt" if near else ""
            if owner is None:
                return LearnerError("not_found", _("{name} is not defined in your code").format(
                    name=name) + hint, cause=cause)
            return LearnerError("not_found", _("{owner} object has no attribute {name}").format(
                owner=_text(owner), name=repr(name)) + hint, cause=cause)
        if kind == "unserializable":
            arg, desc = err.get("arg"), _text(err.get("desc"))
            if err.get("big") is True:
                if what is None:  # the import's reply: the module's names
                    return LearnerError("import", import_failed(_too_large_module(desc)),
                                        cause="unreadable")
                return LearnerError("unserializable", _too_much(what, desc))
            if type(arg) is int:
                return LearnerError(
                    "unserializable",
                    _("{what} changed argument {number} into {desc}").format(
                        what=what, number=arg + 1, desc=desc) + _(_NOT_SENDABLE),
                )
            return LearnerError("unserializable", _("{what} returned {desc}").format(
                what=what, desc=desc) + _(_NOT_SENDABLE))
        if kind not in _KINDS_WITH_TRACEBACK:
            raise ProtocolError("unknown error kind")
        type_name, text = _text(err.get("type"), 100), _text(err.get("msg"))
        frames = _frames(err.get("frames"))
        where = f" ({self._where(frames[-1])})" if frames else ""
        summary = f"{type_name}: {text}" if text else type_name
        detail = "\n".join(
            [_("Traceback (your code only):")]
            + [f"  {self._where(f)}\n    {f[3]}" if f[3] else f"  {self._where(f)}" for f in frames]
            + [summary]
        )
        if kind == "exit":
            code = "" if text == "None" else text
            summary = _("called sys.exit({code})").format(code=code)
        if what is None:
            if kind == "exit":
                summary = _("it called sys.exit({code}) at import").format(code=code)
            return LearnerError("import", import_failed(f"{summary}{where}"), detail, cause=kind)
        if kind == "not_implemented":
            if text.endswith("is not implemented yet") and not text.startswith(f"{what} "):
                # a stub of an earlier exercise, called by this one
                name = text.removesuffix("is not implemented yet").strip()
                return LearnerError(kind, _("{name} is not implemented yet (needed by {what})")
                                    .format(name=name, what=what), detail, cause="needed_by")
            return LearnerError(kind, not_implemented(what), detail)
        if kind == "exit":
            return LearnerError("exception", f"{what} {summary}{where}", detail)
        return LearnerError(kind, f"{summary}{where}", detail, exception=type_name, text=text,
                            line=frames[-1][3] if frames else "")

    def _where(self, frame: list) -> str:
        """``"ex01.ipynb, cell 4, line 2, in softmax"`` for a learner frame."""
        filename, line, function, _source = frame
        source = self._files.get(filename)
        place = _("{file}, line {line}").format(file=filename, line=line)
        if source is not None:
            place = _("{file}, line {line}").format(file=source.display, line=line)
            line_map = source.line_map
            cell = line_map[line - 1] if line_map and 0 < line <= len(line_map) else None
            if cell is not None:
                place = _("{file}, cell {cell}, line {line}").format(
                    file=source.display, cell=cell.cell, line=cell.line)
        if function and function != "<module>":
            place += _(", in {function}").format(function=function)
        return place

    def _crash(self, code: int | None, what: str | None) -> LearnerError:
        """The LearnerError for a child that exited (``code`` as Popen.returncode) or that closed
        its channel while still running (``code`` None); ``what`` None means during import."""
        if code is None:
            text = _("your code closed the grader's channel")
        elif code >= 0:
            text = _("the process exited with code {code}").format(code=code)
        elif -code == signal.SIGXCPU:
            text = _("the process used up its CPU time ({seconds} s)").format(
                seconds=self.limits.cpu_seconds)
        elif -code == signal.SIGKILL:
            text = _("the process was killed (SIGKILL; out of memory?)")
        else:
            try:
                signal_name = signal.Signals(-code).name
            except ValueError:
                signal_name = _("signal {number}").format(number=-code)
            text = _("the process was killed by {signal}").format(signal=signal_name)
        exited = code is not None and code >= 0
        if what is None:
            hint = _(" (os._exit at top level?)") if exited else ""
            return LearnerError("import", import_failed(
                _("{problem} during import").format(problem=text) + hint), cause="crashed")
        hint = _(" (sys.exit or os._exit in your code?)") if exited else ""
        return LearnerError("crashed", _("{problem} while running {what}").format(
            problem=text, what=what) + hint)

    def _header_bytes(self) -> int:
        return min(int(self.limits.header_bytes), int(self.limits.reply_bytes))

    def _seconds(self, importing: bool) -> str:
        seconds = self.limits.import_timeout if importing else self.limits.call_timeout
        return f"{seconds:g} s"

    def _id_prefix(self) -> int:
        return self._key << 16 | self._generation

    def _is_current(self, handle: Handle) -> bool:
        return self._child is not None and handle.id >> 32 == self._id_prefix()

    def _make_handle(self, handle_id: int, type_name: str) -> Handle:
        return Handle(handle_id, type_name[:_TEXT_CHARS])

    def _discard_child(self) -> None:
        child, self._child = self._child, None
        if child is not None:
            child.kill()


def _text(value: object, limit: int = _TEXT_CHARS) -> str:
    """A string from the child as one clipped line."""
    if type(value) is not str:
        raise ProtocolError("expected a string")
    line = " ".join(value.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _frames(value: object) -> list[list]:
    """Validated ``[file, line, function, source]`` frames from the child (last few only)."""
    if type(value) is not list or len(value) > 100:
        raise ProtocolError("bad frames")
    frames = []
    for f in value[-_FRAMES_SHOWN:]:
        if type(f) is not list or len(f) != 4 or type(f[1]) is not int:
            raise ProtocolError("bad frame")
        frames.append([_text(f[0]), f[1], _text(f[2]), _text(f[3])])
    return frames


def _handles(value: object) -> Iterator[Handle]:
    """Every Handle inside nested lists, tuples and dicts."""
    if isinstance(value, Handle):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _handles(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _handles(item)


#: A path into some child's scratch copy of the submission, up to the file name.
_SCRATCH_PATH = re.compile(r"[^\s\"']*backprop-lab-[A-Za-z0-9_]+/submission/")


class _Output:
    """stdout+stderr of a Session's children: the first ``cap`` bytes kept, the rest counted.

    A thread per child drains its pipe continuously, so the child never blocks on output. text()
    also reads what is pending, so it includes everything printed before the last reply.
    """

    def __init__(self, cap: int) -> None:
        self._cap = cap
        self._kept = bytearray()
        self._dropped = 0
        self._lock = threading.Lock()
        self._fds: set[int] = set()

    def attach(self, fd: int, stop_fd: int) -> threading.Thread:
        """Start draining ``fd`` until end of file or until ``stop_fd`` becomes readable."""
        os.set_blocking(fd, False)
        with self._lock:
            self._fds.add(fd)
        thread = threading.Thread(
            target=self._drain, args=(fd, stop_fd), name="learner-output", daemon=True
        )
        thread.start()
        return thread

    def detach(self, fd: int) -> None:
        """Read what is left in ``fd`` and stop reading it; its thread must have ended."""
        with self._lock:
            self._pump(fd)
            self._fds.discard(fd)

    def text(self) -> str:
        with self._lock:
            for fd in self._fds:
                self._pump(fd)
            kept, dropped = bytes(self._kept), self._dropped
        text = kept.decode("utf-8", "replace")
        return f"{text}\n[... {dropped} more bytes dropped]" if dropped else text

    def _drain(self, fd: int, stop_fd: int) -> None:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        poller.register(stop_fd, select.POLLIN)
        while True:
            events = poller.poll()
            while True:
                with self._lock:
                    got = self._read(fd)
                if got <= 0:
                    break
            if got < 0 or any(f == stop_fd for f, _event in events):
                return

    def _pump(self, fd: int, max_reads: int = 64) -> None:
        for _read in range(max_reads):
            if self._read(fd) <= 0:
                return

    def _read(self, fd: int) -> int:
        """One read (lock held): bytes read, 0 if nothing is pending, -1 at end of file."""
        try:
            data = os.read(fd, _OUTPUT_CHUNK)
        except BlockingIOError:
            return 0
        except OSError:
            return -1
        if not data:
            return -1
        room = max(self._cap - len(self._kept), 0)
        self._kept += data[:room]
        self._dropped += max(len(data) - room, 0)
        return len(data)


class _Resources:
    """What one child holds in the parent; release() frees it all (idempotent).

    The run's folder, ``<tmp>/backprop-lab-XXXX`` (0711, the grader's), holds ``owner.lock``
    (flock-ed by this process for as long as the run lives: remove_stale_runs() tells a dead
    run's folder from a live one's by it), ``submission/`` (the grader's copy of the files,
    read-only to the learner) and ``work/``, the scratch folder: the learner's working
    directory, HOME and TMPDIR, owned by the learner's own user id when the grader is root.
    Under bubblewrap ``work`` is a size-capped tmpfs inside the sandbox and stays empty here.
    """

    def __init__(self, output: _Output, token: str, sandbox: Sandbox, limits: Limits) -> None:
        global _serial
        self.output = output
        self.token = token
        self.proc: subprocess.Popen | None = None
        self.pidfd: int | None = None
        self.fds: list[int] = []
        self.thread: threading.Thread | None = None
        self.out_fd = self.stop_fd = -1
        self.group: cgroups.RunGroup | None = None
        _remove_stale_once()
        self.folder = tempfile.mkdtemp(prefix=cgroups.PREFIX)
        _running.add(self)
        # Locked under another name first, then renamed: a concurrent remove_stale_runs() never
        # sees an owner.lock that is not locked yet (a folder without one is young, so live).
        unlocked = os.path.join(self.folder, f"{_LOCK}.new")
        self.lock = os.open(unlocked, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        os.rename(unlocked, os.path.join(self.folder, _LOCK))
        _serial += 1
        self.uid = learner_id(_serial) if sandbox.drops_root() else None
        self.scratch = os.path.join(self.folder, "work")
        try:
            os.mkdir(self.scratch, 0o700)
            if self.uid is not None:
                os.chown(self.scratch, self.uid, self.uid)
                os.chmod(self.folder, 0o711)  # the learner's id reaches work/, submission/ only
        except BaseException:
            self.release()
            raise
        try:
            name = cgroups.run_name(os.path.basename(self.folder).removeprefix(cgroups.PREFIX))
            self.group = cgroups.RunGroup.create(name, limits.total_memory_bytes,
                                                 limits.processes)
        except OSError:
            self.group = None  # the run still has its per-process limits

    def kill_now(self) -> None:
        """The part of release() a process about to exit on a signal needs: SIGKILL the run's
        processes and remove its cgroup and folder. Takes no lock and joins no thread, so it
        is safe from a signal handler whatever the main thread was doing."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        if self.group is not None:
            self.group.kill()
        if self.proc is not None:
            _kill_leftovers(self.proc.pid, self.token, self.uid)
        if self.group is not None:
            self.group.remove()
        _remove_tree(self.folder)

    def release(self) -> None:
        _running.discard(self)
        if self.proc is not None:
            # Kill the group before reaping the leader, so its id cannot have been reused.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            if self.group is not None:
                self.group.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)
            _kill_leftovers(self.proc.pid, self.token, self.uid)
        if self.group is not None:
            self.group.remove()
            self.group = None
        if self.thread is not None:
            with contextlib.suppress(OSError):
                os.write(self.stop_fd, b"x")
            self.thread.join(timeout=5)
            if not self.thread.is_alive():
                self.output.detach(self.out_fd)
        for fd in [*self.fds, *([self.pidfd] if self.pidfd is not None else [])]:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.fds = []
        self.pidfd = None
        _remove_tree(self.folder)
        if self.lock >= 0:
            with contextlib.suppress(OSError):
                os.close(self.lock)
            self.lock = -1


class _Child:
    """One child process (inside ``sandbox``) with its channel, scratch folder and output drain."""

    def __init__(
        self, files: list[SourceFile], limits: Limits, output: _Output, token: str,
        sandbox: Sandbox = NO_SANDBOX,
    ) -> None:
        self.sandbox = sandbox
        self.res = res = _Resources(output, token, sandbox, limits)
        self._finalizer = weakref.finalize(self, res.release)
        try:
            self.subdir = os.path.join(res.folder, "submission")
            os.mkdir(self.subdir)
            os.chmod(self.subdir, 0o755)
            for f in files:
                target = Path(self.subdir, f.filename)
                target.write_bytes(f.data)
                target.chmod(0o644)
            req_r, req_w = os.pipe()
            rep_r, rep_w = os.pipe()
            out_r, out_w = os.pipe()
            stop_r, stop_w = os.pipe()
            res.out_fd, res.stop_fd = out_r, stop_w
            res.fds += [req_w, rep_r, out_r, stop_r, stop_w]
            join = [os.open(path, os.O_WRONLY | os.O_CLOEXEC)
                    for path in (res.group.procs_files() if res.group else [])]
            try:
                for fd in (rep_r, out_r):
                    with contextlib.suppress(OSError, AttributeError):
                        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)
                argv = [sys.executable, "-I", "-c", _BOOT, str(req_r), str(rep_w)]
                with _signals_held():  # until res.proc names the child (see kill_all_runs)
                    res.proc = subprocess.Popen(
                        sandbox.wrap(argv, res.scratch, [self.subdir], limits.scratch_bytes,
                                     res.uid),
                        stdin=subprocess.DEVNULL,
                        stdout=out_w,
                        stderr=out_w,
                        cwd=res.scratch,
                        env=_child_env(res.scratch, token),
                        pass_fds=(req_r, rep_w),
                        start_new_session=True,
                        preexec_fn=_unheld(sandbox.preexec(res.uid, join, limits.processes)),
                    )
            finally:
                for fd in (req_r, rep_w, out_w, *join):
                    os.close(fd)
            with contextlib.suppress(AttributeError, OSError):
                res.pidfd = os.pidfd_open(res.proc.pid)
            os.set_blocking(req_w, False)
            self.channel = Channel(rep_r, req_w, res.pidfd)
            res.thread = output.attach(out_r, stop_r)
        except BaseException:
            self.kill()
            raise

    def wait_exit(self, timeout: float) -> int | None:
        """The exit status (as Popen.returncode) if the process ends within ``timeout`` seconds;
        the rest of its process group is then killed too. None if it is still running."""
        res = self.res
        assert res.proc is not None
        if res.pidfd is not None:
            poller = select.poll()
            poller.register(res.pidfd, select.POLLIN)
            if not poller.poll(timeout * 1000):
                return None
        else:
            try:
                res.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                return None
        self.kill()
        return self.sandbox.returncode(res.proc.returncode)

    def kill(self) -> None:
        """SIGKILL the process group, reap, stop the drain and remove the scratch folder."""
        self._finalizer()


#: Variables passed through to the learner's process: where the course's data sets are.
_PASSED_THROUGH = ("BACKPROP_LAB_DATASETS", "XDG_CACHE_HOME")


def _child_env(scratch: str, token: str) -> dict[str, str]:
    passed = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
    return {
        **passed,
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": scratch,
        "TMPDIR": scratch,
        "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_ENABLE_ONEDNN_OPTS": "0",  # same float results run after run
        "KERAS_BACKEND": "tensorflow",
        _RUN_VAR: token,
    }


def _kill_leftovers(session_id: int, token: str, uid: int | None = None) -> None:
    """SIGKILL processes that left the child's process group but are still in its session, or
    still carry its environment marker (e.g. after setsid), or run as the run's own user id
    ``uid`` (which learner code cannot leave), until none is left. Without ``uid`` (or a
    cgroup, or a pid namespace) best effort: learner code can both start a new session and
    clear its environment."""
    marker = f"{_RUN_VAR}={token}".encode()
    for _round in range(100):  # rounds: a process forking as fast as it is killed ends too
        killed = 0
        for pid in _pids():
            try:
                if uid is not None and _real_uid(pid) == uid:
                    found = True
                else:
                    with open(f"/proc/{pid}/stat", "rb") as f:
                        fields = f.read().rpartition(b")")[2].split()
                    found = int(fields[3]) == session_id and fields[0] != b"Z"
                    if not found and token:
                        with open(f"/proc/{pid}/environ", "rb") as f:
                            found = marker in f.read().split(b"\0")
            except (OSError, IndexError, ValueError):
                continue
            if found:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
        if not killed or uid is None:
            return
        time.sleep(0.01)


def _pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def _real_uid(pid: int) -> int | None:
    """The real user id of process ``pid`` (None: gone, or a zombie)."""
    with open(f"/proc/{pid}/status", "rb") as f:
        for line in f:
            if line.startswith(b"State:") and b"Z" in line.split()[1:2]:
                return None
            if line.startswith(b"Uid:"):
                return int(line.split()[1])
    return None


def _remove_tree(path: str) -> None:
    """Remove ``path`` even where learner code took the permissions away (chmod 0 folders)."""
    def retry(function: Any, name: str, _: Any) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(name), 0o700)
            if os.path.isdir(name) and not os.path.islink(name):
                os.chmod(name, 0o700)
                shutil.rmtree(name, ignore_errors=True)
            else:
                function(name)

    if os.path.lexists(path):
        shutil.rmtree(path, onerror=retry)


#: The file in a run's folder its owner holds an flock on.
_LOCK = "owner.lock"
#: A folder without owner.lock (made by an older grader) is stale after this many seconds.
_UNLOCKED_STALE = 3600
_serial = 0  # runs started by this process

#: The runs of this process whose resources are not released yet.
_running: set[_Resources] = set()

#: Signals that end a grader process (see kill_all_runs): held while a child is being started.
_ENDING = frozenset({signal.SIGTERM, signal.SIGINT})


def kill_all_runs() -> None:
    """SIGKILL every learner child this process started and remove their folders. For a
    grader process that ends on a signal (a batch worker's SIGTERM): call it from the handler,
    then ``os._exit``. Nothing is raised into the interrupted code, so no run can outlive the
    process through an exception swallowed where it landed (a fork hook, a finaliser)."""
    for res in list(_running):
        with contextlib.suppress(Exception):
            res.kill_now()


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold the ending signals while a child is being forked: a handler that ran between the
    fork and ``res.proc`` being set could not tell which process to kill."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _ENDING)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _unheld(preexec: Any) -> Any:
    """``preexec`` run after unblocking the ending signals in the forked child (the mask of
    the parent's ``_signals_held`` would otherwise pass through exec to the learner's code)."""
    def run() -> None:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _ENDING)
        preexec()

    return run
_stale_removed = False


def _live(folder: str) -> bool:
    """Whether ``folder`` (a run's folder) belongs to a live run: its owner.lock is locked."""
    try:
        fd = os.open(os.path.join(folder, _LOCK), os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        try:
            return time.time() - os.stat(folder).st_mtime < _UNLOCKED_STALE
        except OSError:
            return False
    except OSError:
        return True  # not ours to judge (another user's)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def remove_stale_runs(tmp: str | None = None) -> int:
    """Remove what runs of dead grader processes (a batch killed with SIGKILL, a power cut)
    left behind: their folders in ``tmp`` (default: the temporary folder), which hold students'
    submissions, the processes still running as their user ids, and their cgroups. Folders of
    live runs, this process's and concurrent ones', are kept. Returns how many folders were
    removed."""
    tmp = tmp or tempfile.gettempdir()
    removed = 0
    try:
        names = [n for n in os.listdir(tmp) if n.startswith(cgroups.PREFIX)
                 and not n.startswith(f"{cgroups.PREFIX}probe-")]
    except OSError:
        names = []
    me = os.geteuid()
    for name in names:
        folder = os.path.join(tmp, name)
        try:
            info = os.lstat(folder)
        except OSError:
            continue
        if not os.path.isdir(folder) or os.path.islink(folder) or (me and info.st_uid != me):
            continue
        if _live(folder):
            continue
        with contextlib.suppress(OSError):
            owner = os.stat(os.path.join(folder, "work")).st_uid
            # A run's own id: end what still runs as it, unless the id's process (the dead
            # owner's pid) is in use again, maybe by a live run with the same id.
            if me == 0 and owner >= 1 << 30 and not os.path.exists(
                    f"/proc/{(owner - (1 << 30)) >> 8}"):
                _kill_leftovers(-1, "", owner)
        _remove_tree(folder)
        removed += 1
    for group in cgroups.stale_groups():
        group.remove()
    return removed


def _remove_stale_once() -> None:
    """remove_stale_runs() at this process's first run (cheap: one listing of the temporary
    folder), so a killed run's leftovers do not wait for the next batch."""
    global _stale_removed
    if not _stale_removed:
        _stale_removed = True
        with contextlib.suppress(OSError):
            remove_stale_runs()


def not_implemented(what: str) -> str:
    """What a check says of ``what`` when the learner has not implemented it yet."""
    return _("{what} is not implemented yet").format(what=what)


def _too_much(what: str, desc: str) -> str:
    return _("{what} returned too much data: {desc}").format(what=what, desc=desc)


def _too_large_module(desc: str) -> str:
    return _("its module is too large to list ({desc})").format(desc=desc)
