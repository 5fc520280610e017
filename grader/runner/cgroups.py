"""Control groups for one run: memory summed over all its processes, and how many there are.

RLIMIT_AS bounds each process; a run that forks twenty children multiplies it by twenty. A
cgroup made for the run (below the grader's own) bounds the sum: ``memory.max`` and ``pids.max``
with cgroup v2, ``memory.limit_in_bytes`` and ``pids.max`` of the v1 hierarchies where a machine
still mounts them (as many CI virtual machines do). :func:`support` finds, once per process,
what this machine lets the grader use; :meth:`RunGroup.create` makes a run's groups; the runner's
child joins them before it execs (see ``Sandbox.preexec``), so no process of the run is ever
outside. :meth:`RunGroup.remove` kills every process still in them and removes them.

Nothing here needs root by itself: the groups are made wherever the grader may write (its own
cgroup when delegated, the v1 hierarchies when writable). Where none is, runs have per-process
limits only, and :func:`support` says so in one line.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["PREFIX", "RunGroup", "Support", "owner_alive", "run_name", "stale_groups",
           "support"]

#: Names of the grader's cgroups (and scratch folders) start with this.
PREFIX = "backprop-lab-"
_ROOT = "/sys/fs/cgroup"


@dataclass(frozen=True)
class Support:
    """Where runs' cgroups go: ``memory`` and ``pids`` are parent folders (None: not
    available), ``version`` is 1 or 2 for each."""

    memory: str | None = None
    pids: str | None = None
    memory_version: int = 0
    pids_version: int = 0
    #: Where a run gets a CPU group of its own (its processes together weigh as one, at the
    #: default weight), so that a run of a thousand busy processes takes no more of the CPU
    #: than a classmate's run of one: None when the machine offers none.
    cpu: str | None = None
    cpu_version: int = 0

    @property
    def description(self) -> str:
        """One line: which cgroup controllers bound a run's total, or that none does."""
        if self.cpu is None:
            return self._totals
        return f"{self._totals}; one CPU share per run (cgroup v{self.cpu_version} cpu)"

    @property
    def _totals(self) -> str:
        if self.memory is None and self.pids is None:
            return "no cgroup: per-process limits only"
        parts = [f"cgroup v{v} {name}" for name, v, where in
                 (("memory", self.memory_version, self.memory),
                  ("pids", self.pids_version, self.pids)) if where]
        if self.memory_version == self.pids_version and len(parts) == 2:
            return f"cgroup v{self.memory_version} memory+pids"
        return " + ".join(parts) + ("" if len(parts) == 2 else
                                    " (no " + ("pids" if self.memory else "memory") + " cgroup)")

    @property
    def parents(self) -> list[str]:
        return sorted({p for p in (self.memory, self.pids, self.cpu) if p})


def _own_cgroups() -> dict[str, str]:
    """Controller (or "" for v2) -> this process's cgroup path, from /proc/self/cgroup."""
    found: dict[str, str] = {}
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                for name in controllers.split(","):
                    found[name] = path
    except (OSError, ValueError):
        pass
    return found


def _mounts() -> dict[str, str]:
    """Controller ("" for the v2 hierarchy) -> its mount point, from /proc/self/mountinfo."""
    found: dict[str, str] = {}
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                fields, tail = left.split(), right.split()
                if len(fields) < 5 or len(tail) < 3:
                    continue
                if tail[0] == "cgroup2":
                    found.setdefault("", fields[4])
                elif tail[0] == "cgroup":
                    for option in tail[2].split(","):
                        if option in ("memory", "pids", "cpu"):
                            found.setdefault(option, fields[4])
    except OSError:
        pass
    return found


def _usable(parent: str, files: tuple[str, ...]) -> bool:
    """Whether a cgroup made in ``parent`` has ``files`` (and can be made and removed)."""
    probe = os.path.join(parent, f"{PREFIX}probe-{os.getpid()}")
    try:
        os.mkdir(probe)
    except FileExistsError:
        pass
    except OSError:
        return False
    try:
        return all(os.access(os.path.join(probe, name), os.W_OK) for name in files)
    finally:
        with contextlib.suppress(OSError):
            os.rmdir(probe)


@functools.cache
def support() -> Support:
    """What this machine offers the grader (looked at once per process)."""
    own, mounts = _own_cgroups(), _mounts()
    memory = pids = cpu = None
    memory_version = pids_version = cpu_version = 0
    if "" in mounts and "" in own:  # v2: the grader's own cgroup, when its controllers are ours
        parent = os.path.normpath(mounts[""] + own[""])
        if os.access(parent, os.W_OK):
            with contextlib.suppress(OSError):  # succeeds only where no process is in parent
                with open(os.path.join(parent, "cgroup.subtree_control"), "w") as f:
                    f.write("+memory +pids")
            with contextlib.suppress(OSError):  # on its own: a kernel without it keeps the rest
                with open(os.path.join(parent, "cgroup.subtree_control"), "w") as f:
                    f.write("+cpu")
            if _usable(parent, ("memory.max",)):
                memory, memory_version = parent, 2
            if _usable(parent, ("pids.max",)):
                pids, pids_version = parent, 2
            if _usable(parent, ("cpu.weight",)):
                cpu, cpu_version = parent, 2
    for name, files in (("memory", ("memory.limit_in_bytes",)), ("pids", ("pids.max",))):
        if (memory if name == "memory" else pids) is not None:
            continue
        if name in mounts and name in own:
            parent = os.path.normpath(mounts[name] + own[name])
            if os.access(parent, os.W_OK) and _usable(parent, files):
                if name == "memory":
                    memory, memory_version = parent, 1
                else:
                    pids, pids_version = parent, 1
    if cpu is None and "cpu" in mounts and "cpu" in own:
        parent = os.path.normpath(mounts["cpu"] + own["cpu"])
        if os.access(parent, os.W_OK) and _usable(parent, ("cpu.shares",)):
            cpu, cpu_version = parent, 1
    return Support(memory, pids, memory_version, pids_version, cpu, cpu_version)


def run_name(suffix: str) -> str:
    """The cgroup name of a run of this process: ``backprop-lab-g<pid>_<start time>_<suffix>``,
    so that a later process can tell whether its owner still lives (see :func:`owner_alive`),
    whatever temporary folder either used."""
    return f"{PREFIX}g{os.getpid()}_{_start_time(os.getpid())}_{suffix}"


def owner_alive(name: str) -> bool:
    """Whether the process that made the run group ``name`` still runs (True when the name
    is not one of :func:`run_name`'s: not ours to judge)."""
    try:
        pid, start, _ = name.removeprefix(f"{PREFIX}g").split("_", 2)
        return _start_time(int(pid)) == int(start)
    except ValueError:
        return True


def _start_time(pid: int) -> int:
    """When process ``pid`` started (clock ticks after boot), -1 when there is none or it is a
    zombie (killed, not yet reaped: an init that reaps slowly keeps it listed)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rpartition(b")")[2].split()
        return -1 if fields[0] in (b"Z", b"X") else int(fields[19])
    except (OSError, IndexError, ValueError):
        return -1


class RunGroup:
    """The cgroups of one run (one folder per hierarchy used, all called ``name``)."""

    def __init__(self, folders: list[str], version: dict[str, int]) -> None:
        self.folders = folders
        self._version = version

    @classmethod
    def create(cls, name: str, memory_bytes: int, processes: int,
               where: Support | None = None) -> RunGroup | None:
        """The groups for a run called ``name`` with these caps; None when there is no cgroup
        to use. Raises OSError when one cannot be made although support() found it usable."""
        where = where or support()
        version: dict[str, int] = {}
        settings: dict[str, list[tuple[str, str]]] = {}
        if where.memory:
            folder = os.path.join(where.memory, name)
            if where.memory_version == 2:
                settings[folder] = [("memory.max", str(memory_bytes)),
                                    ("memory.swap.max", "0")]
            else:
                settings[folder] = [("memory.limit_in_bytes", str(memory_bytes)),
                                    ("memory.memsw.limit_in_bytes", str(memory_bytes))]
            version[folder] = where.memory_version
        if where.pids:
            folder = os.path.join(where.pids, name)
            settings.setdefault(folder, []).append(("pids.max", str(processes)))
            version[folder] = where.pids_version
        if where.cpu:  # the default weight: every run weighs the same, however many processes
            folder = os.path.join(where.cpu, name)
            settings.setdefault(folder, [])
            version[folder] = where.cpu_version
        if not settings:
            return None
        group = cls([], version)
        try:
            for folder, values in settings.items():
                os.mkdir(folder)
                group.folders.append(folder)
                for file, value in values:
                    try:
                        with open(os.path.join(folder, file), "w") as f:
                            f.write(value)
                    except OSError:
                        if file in ("memory.swap.max", "memory.memsw.limit_in_bytes"):
                            continue  # no swap accounting: nothing to escape to
                        raise
        except BaseException:
            group.remove()
            raise
        return group

    def procs_files(self) -> list[str]:
        """The files a process writes "0" to, to join every group."""
        return [os.path.join(folder, "cgroup.procs") for folder in self.folders]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for folder in self.folders:
            with contextlib.suppress(OSError, ValueError):
                with open(os.path.join(folder, "cgroup.procs")) as f:
                    found.update(int(line) for line in f if line.strip())
        return found

    def kill(self, seconds: float = 5.0) -> bool:
        """SIGKILL every process in the groups until none is left (a fork bomb included: a
        killed process forks no more). Whether they are empty within ``seconds``."""
        for folder in self.folders:
            if self._version.get(folder) == 2:
                with contextlib.suppress(OSError):
                    with open(os.path.join(folder, "cgroup.kill"), "w") as f:
                        f.write("1")
        deadline = time.monotonic() + seconds
        while True:
            pids = self.pids()
            if not pids:
                return True
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)

    def peak(self) -> dict[str, int]:
        """Peak memory (bytes) and processes seen, where the kernel reports them."""
        names = {"memory": ("memory.max_usage_in_bytes", "memory.peak"),
                 "processes": ("pids.peak",)}
        found: dict[str, int] = {}
        for key, files in names.items():
            for folder in self.folders:
                for file in files:
                    with contextlib.suppress(OSError, ValueError):
                        with open(os.path.join(folder, file)) as f:
                            found[key] = int(f.read().split()[0])
        return found

    def remove(self) -> None:
        """Kill what is left and remove the groups (idempotent; best effort)."""
        self.kill()
        for folder in list(self.folders):
            for _ in range(200):  # a killed process leaves its cgroup a moment after SIGKILL
                try:
                    os.rmdir(folder)
                except FileNotFoundError:
                    break
                except OSError:
                    self.kill(0.5)
                    time.sleep(0.005)
                    continue
                break
            self.folders.remove(folder)


def stale_groups(is_alive: Callable[[str], bool] = owner_alive,
                 where: Support | None = None) -> list[RunGroup]:
    """Run groups in this process's cgroup for which ``is_alive(name)`` is false (by default:
    the process that made them died)."""
    where = where or support()
    by_name: dict[str, list[str]] = {}
    for parent in where.parents:
        try:
            names = os.listdir(parent)
        except OSError:
            continue
        for name in names:
            if name.startswith(f"{PREFIX}g"):
                by_name.setdefault(name, []).append(os.path.join(parent, name))
    version = {os.path.join(p, n): v for p, v in ((where.memory, where.memory_version),
                                                    (where.pids, where.pids_version),
                                                    (where.cpu, where.cpu_version)) if p
               for n in by_name}
    return [RunGroup(folders, version) for name, folders in by_name.items()
            if not is_alive(name)]
