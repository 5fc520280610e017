"""OS-level containment of the learner's process: bubblewrap, or none.

The runner's resource limits bound how much a submission may use; a Sandbox bounds what it can
reach. A Session starts ``sandbox.wrap(argv, work, ...)`` instead of ``argv`` with
``preexec_fn=sandbox.preexec(...)`` and reads the exit status through ``sandbox.returncode``.
The kinds, strongest first:

- ``bubblewrap``: own mount, network, process, IPC, UTS and cgroup namespaces, no capabilities.
  The file system inside holds only the system folders, a few files of /etc, the Python runtime,
  the ``grader`` and ``dataset`` packages and the data-set folder (all read-only), the run's own
  copy of the submission (read-only) and a working folder (a size-capped tmpfs, like /tmp and
  /dev/shm). The repository root, and so ``solutions/``, other students' files and a batch's
  output folder are simply absent. The only network is a loopback of its own. When the run
  ends, or the grader's process that started it dies, the namespace's init dies and takes every
  process inside with it, whatever they did (setsid, double fork, a cleared environment).
- ``none``: the resource limits and a scratch folder only.

Learner code never runs as root: when the grader runs as root (CI machines, containers), each
run gets a user id of its own (:func:`learner_id`, from a range no account uses) and the
wrapper (bwrap, which then drops to it) or, for a class's ``none``, the learner's process
drops to it, without capabilities or groups. A
grader that is not root cannot change user; its learner code runs as its user, never with
capabilities (bwrap maps it to itself and gives it none).

:func:`detect` picks one by running the runner's start-up once in it (per process and wrapper).
"auto" takes bubblewrap or refuses, in one line naming the package to install: a class is
never graded, silently, in a mode whose code can read the gradebook or a classmate's files.

The memory summed over a run's processes and their number are capped by a cgroup where the
machine offers one (see cgroups.py); :attr:`Sandbox.description` says in one line what is used.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import os
import resource
import shutil
import signal
import site
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grader
from grader.runner import cgroups

__all__ = ["KINDS", "NO_SANDBOX", "Sandbox", "SandboxUnavailable", "detect", "learner_id"]

#: The kinds of sandbox, strongest first.
KINDS = ("bubblewrap", "none")
_WHAT = {
    "bubblewrap": "own mount, network, process and IPC namespaces; "
                  "reads only the Python runtime, the grader and the data sets",
    "none": "resource limits and a scratch folder only",
}
#: What "none" leaves open, said wherever its results are shown: learner code runs as its own
#: unprivileged id, as the grader's (non-root) user, or as root.
_UNPROTECTED = {
    "own id": "NOT protected: learner code can read every file any user may read (OUT with the "
              "gradebook, other students' files, solutions/ and the hidden checks, the "
              "grader's command line with --seed), reach the network, and leave processes "
              "running if the batch is killed",
    "your user": "NOT protected: learner code runs as your user and can read and write every "
                 "file you can (OUT with the gradebook, other students' files, solutions/ and "
                 "the hidden checks), read the grader's environment and command line "
                 "($BACKPROP_LAB_SEED, --seed), signal the grader, reach the network, and "
                 "leave processes running",
    "root": "NOT protected: learner code runs as root and can read and write every file (OUT "
            "with the gradebook, other students' files, solutions/ and the hidden checks), "
            "read the grader's environment and command line ($BACKPROP_LAB_SEED, --seed), "
            "signal the grader, reach the network, and leave processes running",
}
#: The refusal of "auto" without bubblewrap: one line, naming the package.
_MISSING = ("bubblewrap is not installed: install Debian's bubblewrap package (apt-get install "
            "bubblewrap), or pass --isolation none to grade your own code unprotected")
_BROKEN = ("bubblewrap cannot run here ({why}): fix that, or pass --isolation none to grade "
           "your own code unprotected")
#: Top-level system folders, bound read-only (or recreated as symlinks on merged-/usr systems).
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
#: What of /etc programs may need; the rest (shadow, ssh keys, machine secrets) stays outside.
_ETC = (
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "timezone",
    "passwd", "group", "nsswitch.conf", "hosts", "host.conf", "mime.types", "os-release", "fonts",
)
#: Read-only too: CPU topology, which OpenBLAS and TensorFlow read to size their thread pools.
_SYSFS = ("/sys/devices/system/cpu",)
_PROBE_SECONDS = 30
#: Size of the sandbox's own /tmp and of its /dev/shm (tmpfs, so memory) under bubblewrap.
TMP_BYTES = 64 * 1024**2
SHM_BYTES = 64 * 1024**2
#: A grader running as root runs each learner process as an id of its own from here up: far
#: above any account (useradd stops at 60000, container id maps at 65536 x N) and below 2**31.
_ID_BASE = 1 << 30
_PR_SET_PDEATHSIG = 1
_PR_SET_NO_NEW_PRIVS = 38  # no setuid program (su, mount...) gives learner code root back


class SandboxUnavailable(Exception):
    """The sandbox asked for cannot run on this machine; str() is one line saying why."""


def learner_id(serial: int) -> int | None:
    """The user (and group) id for this process's learner run number ``serial`` when the grader
    runs as root; None when it does not (it cannot change user then). Unique per grader process
    and run (serial modulo 256), so runs cannot signal or read each other's files either."""
    if os.geteuid() != 0:
        return None
    return _ID_BASE + ((os.getpid() & 0x3FFFFF) << 8 | serial & 0xFF)


@dataclass(frozen=True)
class Sandbox:
    """How the learner's process is contained: ``kind`` is one of :data:`KINDS`.

    ``program`` is the wrapper's path (empty: looked up on PATH when the command runs); ``why``
    says, for "none", why nothing stronger is used (shown in :attr:`description`).
    ``unprivileged``: drop root even in "none" (bubblewrap always does); set for a
    class, not for a student grading their own code.
    """

    kind: str
    program: str = ""
    why: str = field(default="", compare=False)
    unprivileged: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown sandbox kind {self.kind!r}: use one of {', '.join(KINDS)}")

    def wrap(self, argv: list[str], scratch: str, readonly: Sequence[str] = (),
             scratch_bytes: int | None = None, uid: int | None = None) -> list[str]:
        """The command to start instead of ``argv``, whose only writable folder is ``scratch``
        (an absolute path, also its working directory). Under bubblewrap, ``readonly`` folders
        are bound read-only at their own paths, and with ``scratch_bytes`` the scratch folder
        is a fresh tmpfs of that size (so whatever is in the host's folder stays outside).
        ``uid`` is the id the learner runs as (see :func:`learner_id`), or None (the grader's
        own: never root then)."""
        if self.kind == "none":
            return list(argv)
        program = self.program or "bwrap"
        options = _bwrap_options(scratch, program, readonly, scratch_bytes, uid)
        return [program, *options, "--", *([] if uid is None else _drop(uid)), *argv]

    def drops_root(self) -> bool:
        """Whether the learner's process gets its own unprivileged id (grader running as root)."""
        return os.geteuid() == 0 and (self.kind != "none" or self.unprivileged)

    def preexec(self, uid: int | None, join: Sequence[int] = (),
                processes: int | None = None) -> Callable[[], None]:
        """What the started process does before its exec: join the run's cgroups (write "0"
        to each of the ``join`` descriptors), drop to ``uid`` when given in "none" (bubblewrap
        drops by itself, after making its namespaces as root), cap its user's
        processes at ``processes`` (the id is the run's own), be the first the kernel's OOM
        killer takes (oom_score_adj 1000, where the cgroups summed over jobs exceed the
        machine's memory), gain no privileges from a
        set-user-id program, and die with its parent (PR_SET_PDEATHSIG, set last: changing
        ids clears it)."""
        prctl = _prctl()
        parent = os.getpid()
        drop = uid if uid is not None and self.kind == "none" else None

        def run() -> None:
            for fd in join:
                os.write(fd, b"0")
            try:  # the kernel's OOM killer takes learner code first, never a grader process
                adjust = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
                os.write(adjust, b"1000")
                os.close(adjust)
            except OSError:
                pass
            if uid is not None and processes:  # counts the processes of the run's own id
                resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
            if drop is not None:
                os.setgroups([])
                os.setresgid(drop, drop, drop)
                os.setresuid(drop, drop, drop)
            if prctl is not None:
                prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
                prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:  # the parent died before the line above
                os.kill(os.getpid(), signal.SIGKILL)

        return run

    def returncode(self, code: int) -> int:
        """The wrapper's exit status ``code`` as ``Popen.returncode`` of the wrapped command:
        ``-N`` when it was killed by signal N (the wrappers exit with 128+N then)."""
        if self.kind != "none" and code > 128 and code - 128 in signal.valid_signals():
            return 128 - code
        return code

    @property
    def description(self) -> str:
        """One plain line for a summary: the kind, what it keeps the learner's code from (and
        what it does not), whom that code runs as, and what bounds a run's total footprint."""
        why = f"{self.why}; " if self.why else ""
        parts = [f"{self.kind}: {why}{_WHAT[self.kind]}"]
        if self.drops_root():
            parts.append("learner code runs as an unprivileged user id of its own, "
                         "without capabilities")
        elif self.kind != "none":
            parts.append("learner code runs as your user, without capabilities")
        footprint = cgroups.support().description
        if self.kind == "bubblewrap":
            footprint += "; scratch, /tmp and /dev/shm are size-capped tmpfs"
        parts.append(f"run totals: {footprint}")
        unprotected = self.unprotected
        if unprotected:
            parts.append(unprotected)
        return "; ".join(parts)

    @property
    def unprotected(self) -> str:
        """What this kind leaves open, in one line ("" for bubblewrap)."""
        if self.kind == "bubblewrap":
            return ""
        if self.drops_root():
            return _UNPROTECTED["own id"]
        return _UNPROTECTED["root" if os.geteuid() == 0 else "your user"]


NO_SANDBOX = Sandbox("none")


def detect(prefer: str = "auto", for_class: bool = False) -> Sandbox:
    """The sandbox to use: ``prefer`` is "auto", or one of :data:`KINDS`.

    "auto" is bubblewrap (tried once by starting the runner in it) or SandboxUnavailable with
    one line saying what to install: it never picks a weaker kind. Naming an unavailable kind
    raises SandboxUnavailable too. ``for_class``: "none" drops root as well (see Sandbox).
    """
    if prefer != "auto" and prefer not in KINDS:
        raise ValueError(f"unknown sandbox {prefer!r}: use auto, {', '.join(KINDS)}")
    if prefer == "none":
        if not for_class or os.geteuid() != 0:
            return NO_SANDBOX
        why = _probe("none", "")
        if why is None:
            return Sandbox("none", unprivileged=True)
        return Sandbox("none", why=f"learner code cannot run as an unprivileged user here ({why})")
    program = shutil.which("bwrap")
    if program is None:
        raise SandboxUnavailable(_MISSING)
    why = _probe("bubblewrap", program)
    if why is None:
        return Sandbox("bubblewrap", program)
    raise SandboxUnavailable(_BROKEN.format(why=why))


@functools.cache
def _probe(kind: str, program: str) -> str | None:
    """None when ``program`` starts the runner's child (this Python importing the grader) in a
    ``kind`` sandbox, as the learner's user, else one line saying why not (the last line the
    wrapper or Python printed)."""
    sandbox = Sandbox(kind, program, unprivileged=True)
    uid = learner_id(255)
    root = str(Path(grader.__file__).resolve().parent.parent)
    boot = f"import sys; sys.path.insert(0, {root!r}); import grader.runner.child"
    with tempfile.TemporaryDirectory(prefix=f"{cgroups.PREFIX}probe-") as folder:
        work = os.path.join(folder, "work")
        os.mkdir(work)
        os.chmod(folder, 0o711)
        if uid is not None:
            os.chown(work, uid, uid)
        argv = sandbox.wrap([sys.executable, "-I", "-c", boot], work, (), 1024**2, uid)
        try:
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                                  cwd=work, timeout=_PROBE_SECONDS, start_new_session=True,
                                  preexec_fn=sandbox.preexec(uid))
        except subprocess.TimeoutExpired:
            return f"a test run did not end within {_PROBE_SECONDS} s"
        except OSError as error:
            return f"{program or sys.executable} cannot be started ({error.strerror or error})"
    if done.returncode == 0:
        return None
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    why = lines[-1].strip() if lines else f"a test run exited with code {done.returncode}"
    if uid is not None and kind == "none":
        why += f" (as user id {uid}: the grader and Python must be readable by every user)"
    return why


@functools.cache
def _prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up before a fork (None where there is none)."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def _bwrap_options(scratch: str, program: str = "bwrap", readonly: Sequence[str] = (),
                   scratch_bytes: int | None = None, uid: int | None = None) -> list[str]:
    """bwrap's options for a run whose only writable folder is ``scratch``.

    With ``uid`` (the grader is root), bwrap runs as root without a user namespace (which would
    map the learner to root outside), keeps only what changing user needs, and the command it
    starts is prefixed by :func:`_drop` to ``uid``: kernel-wide an ordinary user, without any
    capability, bounding set or way back (no_new_privs). Folders it creates on the way to a
    bound path are 0755, so that user can reach what is bound there, and its writable folders
    are sticky and world-writable: they exist only in the run's own mount namespace.
    """
    sized, perms = _bwrap_features(program)
    if uid is None:
        options = ["--unshare-all", "--cap-drop", "ALL"]
    else:
        options = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                   "--unshare-cgroup-try", "--cap-drop", "ALL",
                   *(f for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP")
                     for f in ("--cap-add", cap))]
    options += ["--die-with-parent", "--new-session"]
    binds: list[str] = []  # folders bound from the host: whatever they hold is there
    made = ["/dev", "/proc", "/tmp"]  # folders mounted or made inside: empty but for what is put

    def reach(path: str) -> list[str]:
        """--dir (0755) for the folders up to ``path`` that nothing provides yet: bwrap would
        make them 0700, which the learner's own user id cannot enter (a checkout in a folder
        of mktemp -d's, as CI's, would be out of its reach)."""
        new: list[str] = []
        parent = os.path.dirname(path)
        while parent not in ("/", "", *made) and not any(_within(parent, b) for b in binds):
            new.append(parent)
            parent = os.path.dirname(parent)
        made.extend(new)
        return [f for d in reversed(new) for f in ([*(["--perms", "0755"] if perms else []),
                                                     "--dir", d])]

    def tmpfs(size: int | None, path: str) -> list[str]:
        return [*(["--size", str(size)] if sized and size else []),
                *(["--perms", "01777"] if perms else []), "--tmpfs", path]

    for path in _SYSTEM_DIRS:
        if os.path.islink(path):
            options += ["--symlink", os.readlink(path), path]
        else:
            options += ["--ro-bind-try", path, path]
            binds.append(path)
    options += ["--dev", "/dev", "--proc", "/proc", *tmpfs(TMP_BYTES, "/tmp"),
                *tmpfs(SHM_BYTES, "/dev/shm")]
    readable = _readable()
    for path in readable:
        options += [*reach(path), "--ro-bind-try", path, path]
        binds.append(path)
    bound = readable + [p for p in _SYSTEM_DIRS if not os.path.islink(p)]
    for path in _secrets():
        if any(_within(path, source) for source in bound):  # e.g. a checkout under /usr
            options += ["--tmpfs", path, "--remount-ro", path]  # an empty, read-only folder
    options += reach(scratch)
    if scratch_bytes is not None and sized:
        options += tmpfs(scratch_bytes, scratch)
        made.append(scratch)
    else:
        options += ["--bind", scratch, scratch]
        binds.append(scratch)
    for path in readonly:
        options += [*reach(path), "--ro-bind", path, path]
        binds.append(path)
    return [*options, "--remount-ro", "/", "--chdir", scratch]


def _drop(uid: int) -> list[str]:
    """A command prefix that becomes user and group ``uid`` with no supplementary groups and no
    capabilities (bounding and inheritable sets cleared), then execs the rest."""
    setpriv = shutil.which("setpriv", path="/usr/bin:/bin:/usr/sbin:/sbin")
    if setpriv is not None and os.path.realpath(setpriv).startswith("/usr/"):
        return [setpriv, "--reuid", str(uid), "--regid", str(uid), "--clear-groups",
                "--bounding-set", "-all", "--inh-caps", "-all", "--"]
    return [sys.executable, "-I", "-S", "-c", _DROP_PY, str(uid)]


#: _drop without setpriv (util-linux): the same in Python, without site (fast).
_DROP_PY = (
    "import ctypes, os, sys\n"
    "u = int(sys.argv[1])\n"
    "libc = ctypes.CDLL(None)\n"
    "[libc.prctl(24, c, 0, 0, 0) for c in range(64)]\n"  # PR_CAPBSET_DROP
    "os.setgroups([]); os.setresgid(u, u, u); os.setresuid(u, u, u)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


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
def _bwrap_features(program: str) -> tuple[bool, bool]:
    """Whether bwrap at ``program`` (a path, or a name on PATH) has ``--size`` (0.7 and later)
    and ``--perms`` (0.5 and later)."""
    try:
        done = subprocess.run([program, "--help"], capture_output=True, timeout=_PROBE_SECONDS)
    except (OSError, subprocess.TimeoutExpired):
        return False, False
    text = done.stdout + done.stderr
    return b"--size" in text, b"--perms" in text


def _secrets() -> list[str]:
    """Existing folders hidden even when a bound folder holds them: the instructor's solutions
    (beside the grader package in a checkout)."""
    return [str(grader.SOLUTIONS_DIR)] if grader.SOLUTIONS_DIR.is_dir() else []


def _within(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or inside it."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")
