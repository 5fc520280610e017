"""OS-level containment of the learner's process: bubblewrap, unshare, or none.

The runner's resource limits bound how much a submission may use; a Sandbox bounds what it can
reach. A Session starts ``sandbox.wrap(argv, scratch)`` instead of ``argv`` and reads the exit
status through ``sandbox.returncode``. The kinds, strongest first:

- ``bubblewrap``: own mount, network, process, IPC, UTS and cgroup namespaces, no capabilities.
  The file system inside holds only the system folders, a few files of /etc, the Python runtime,
  the ``grader`` and ``dataset`` packages and the data-set folder (all read-only) and the scratch
  folder (read-write, at its own path). The repository root, and so ``solutions/``, other
  students' files and a batch's output folder are simply absent. The only network is a loopback
  of its own. When the run ends, the namespace's init dies and takes every process inside with
  it, whatever they did (setsid, double fork, a cleared environment).
- ``unshare`` (util-linux): own network and process namespaces, so the same network and process
  guarantees, but files are protected by permissions only.
- ``none``: the resource limits and a scratch folder only.

:func:`detect` picks one by running a trivial command once (per process and wrapper).

Under bubblewrap, files written to the sandbox's own /tmp (a tmpfs) take memory, not disk: it is
capped at :data:`TMP_BYTES` where bwrap supports ``--size`` (0.7 and later). The scratch folder is
on the host's disk, as without a sandbox.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import signal
import site
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import grader

__all__ = ["KINDS", "NO_SANDBOX", "Sandbox", "SandboxUnavailable", "detect"]

#: The kinds of sandbox, strongest first.
KINDS = ("bubblewrap", "unshare", "none")
_PROGRAMS = {"bubblewrap": "bwrap", "unshare": "unshare"}
_WHAT = {
    "bubblewrap": "own mount, network, process and IPC namespaces; "
                  "reads only the Python runtime, the grader and the data sets",
    "unshare": "own network and process namespaces; files protected by permissions only",
    "none": "resource limits and a scratch folder only",
}
#: Top-level system folders, bound read-only (or recreated as symlinks on merged-/usr systems).
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
#: What of /etc programs may need; the rest (shadow, ssh keys, machine secrets) stays outside.
_ETC = (
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "timezone",
    "passwd", "group", "nsswitch.conf", "hosts", "host.conf", "mime.types", "os-release", "fonts",
)
#: Read-only too: CPU topology, which OpenBLAS and TensorFlow read to size their thread pools.
_SYSFS = ("/sys/devices/system/cpu",)
#: sh as the pid namespace's init under unshare: an init ignores signals it does not handle,
#: so the learner's process must not be pid 1 (SIGXCPU would be ignored). Exits 128+N for
#: signal N, as bwrap does.
_SH_INIT = '"$@"; exit $?'
_PROBE_SECONDS = 30
#: Size of the sandbox's own /tmp (a tmpfs, so memory) under bubblewrap.
TMP_BYTES = 64 * 1024**2


class SandboxUnavailable(Exception):
    """The sandbox asked for cannot run on this machine; str() is one line saying why."""


@dataclass(frozen=True)
class Sandbox:
    """How the learner's process is contained: ``kind`` is one of :data:`KINDS`.

    ``program`` is the wrapper's path (empty: looked up on PATH when the command runs); ``why``
    says, for "none", why nothing stronger is used (shown in :attr:`description`).
    """

    kind: str
    program: str = ""
    why: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown sandbox kind {self.kind!r}: use one of {', '.join(KINDS)}")

    def wrap(self, argv: list[str], scratch: str) -> list[str]:
        """The command to start instead of ``argv``, whose only writable folder is ``scratch``
        (an absolute path, also its working directory)."""
        if self.kind == "none":
            return list(argv)
        program = self.program or _PROGRAMS[self.kind]
        if self.kind == "bubblewrap":
            return [program, *_bwrap_options(scratch, program), "--", *argv]
        user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
        return [program, *user, "--net", "--pid", "--fork", "--kill-child", "--mount-proc",
                "--", "/bin/sh", "-c", _SH_INIT, "sh", *argv]

    def returncode(self, code: int) -> int:
        """The wrapper's exit status ``code`` as ``Popen.returncode`` of the wrapped command:
        ``-N`` when it was killed by signal N (the wrappers exit with 128+N then)."""
        if self.kind != "none" and code > 128 and code - 128 in signal.valid_signals():
            return 128 - code
        return code

    @property
    def description(self) -> str:
        """One plain line for a summary: the kind and what it keeps the learner's code from."""
        why = f"{self.why}; " if self.why else ""
        return f"{self.kind}: {why}{_WHAT[self.kind]}"


NO_SANDBOX = Sandbox("none")


def detect(prefer: str = "auto") -> Sandbox:
    """The sandbox to use: ``prefer`` is "auto", or one of :data:`KINDS`.

    "auto" takes the first of bubblewrap and unshare that works here (each tried once by running
    a trivial command in it), else none. Naming an unavailable kind raises SandboxUnavailable.
    """
    if prefer != "auto" and prefer not in KINDS:
        raise ValueError(f"unknown sandbox {prefer!r}: use auto, {', '.join(KINDS)}")
    if prefer == "none":
        return NO_SANDBOX
    for kind in ("bubblewrap", "unshare") if prefer == "auto" else (prefer,):
        name = _PROGRAMS[kind]
        program = shutil.which(name)
        why = f"{name} is not installed (not on PATH)" if program is None else _probe(kind, program)
        if why is None:
            return Sandbox(kind, program or "")
        if prefer != "auto":
            raise SandboxUnavailable(f"cannot use {kind}: {why}")
    return Sandbox("none", why="bubblewrap and unshare are unavailable")


@functools.cache
def _probe(kind: str, program: str) -> str | None:
    """None when ``program`` starts this Python in a ``kind`` sandbox, else one line saying why
    not (the last line the wrapper printed)."""
    with tempfile.TemporaryDirectory(prefix="backprop-lab-probe-") as scratch:
        argv = Sandbox(kind, program).wrap([sys.executable, "-I", "-c", ""], scratch)
        try:
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                                  cwd=scratch, timeout=_PROBE_SECONDS, start_new_session=True)
        except subprocess.TimeoutExpired:
            return f"a test run did not end within {_PROBE_SECONDS} s"
        except OSError as error:
            return f"{program} cannot be started ({error.strerror or error})"
    if done.returncode == 0:
        return None
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[-1].strip() if lines else f"a test run exited with code {done.returncode}"


def _bwrap_options(scratch: str, program: str = "bwrap") -> list[str]:
    """bwrap's options for a run whose only writable folder is ``scratch``."""
    options = ["--unshare-all", "--die-with-parent", "--new-session",
               "--dev", "/dev", "--proc", "/proc"]
    if _bwrap_sizes_tmpfs(program):
        options += ["--size", str(TMP_BYTES)]
    options += ["--tmpfs", "/tmp"]
    if os.geteuid() == 0:
        options += ["--cap-drop", "ALL"]  # bwrap started by root keeps every capability otherwise
    for path in _SYSTEM_DIRS:
        if os.path.islink(path):
            options += ["--symlink", os.readlink(path), path]
        else:
            options += ["--ro-bind-try", path, path]
    readable = _readable()
    for path in readable:
        options += ["--ro-bind-try", path, path]
    bound = readable + [p for p in _SYSTEM_DIRS if not os.path.islink(p)]
    for path in _secrets():
        if any(_within(path, source) for source in bound):  # e.g. a checkout under /usr
            options += ["--tmpfs", path, "--remount-ro", path]  # an empty, read-only folder
    return [*options, "--bind", scratch, scratch, "--remount-ro", "/", "--chdir", scratch]


def _readable() -> list[str]:
    """Paths bound read-only besides the system folders, outermost only."""
    import dataset
    from dataset.mnist import datasets_dir

    paths = [
        *_runtime(),
        str(Path(grader.__file__).resolve().parent),
        str(Path(dataset.__file__).resolve().parent),
        str(datasets_dir().resolve()),
        *_SYSFS,
    ]
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):  # data sets cached or downloaded there (dataset.mnist.user_cache_dir)
        paths.append(os.path.join(xdg, "backprop-lab"))
    covered = [p for p in _SYSTEM_DIRS if not os.path.islink(p)]
    kept: list[str] = []
    for path in sorted(set(paths) | {os.path.realpath(p) for p in paths}):
        if os.path.exists(path) and not any(_within(path, c) for c in covered + kept):
            kept.append(path)
    return kept


@functools.cache
def _runtime() -> tuple[str, ...]:
    """The Python runtime: the interpreter, its prefixes (base and venv) and site-packages."""
    on_path = [p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages")]
    etc = [os.path.join("/etc", name) for name in _ETC] + glob.glob("/etc/python3*")
    return (sys.executable, sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix,
            *site.getsitepackages(), *on_path, *etc)


@functools.cache
def _bwrap_sizes_tmpfs(program: str) -> bool:
    """Whether bwrap at ``program`` (a path, or a name on PATH) has ``--size`` (0.7 and later)."""
    try:
        done = subprocess.run([program, "--help"], capture_output=True, timeout=_PROBE_SECONDS)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return b"--size" in done.stdout + done.stderr


def _secrets() -> list[str]:
    """Existing folders hidden even when a bound folder holds them: the instructor's solutions
    (beside the grader package in a checkout)."""
    return [str(grader.SOLUTIONS_DIR)] if grader.SOLUTIONS_DIR.is_dir() else []


def _within(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or inside it."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")
