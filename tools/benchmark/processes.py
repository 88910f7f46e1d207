"""The dbt processes a job starts: their peak memory, and a time limit.

The Dagster jobs run in this process and start dbt as child processes (dagster-dbt). A
thread samples the children's VmHWM (/proc/<pid>/status) every 20 ms until they exit:
VmHWM is monotonic, so the last sample is each process's peak but for the last interval.
Not ru_maxrss: Linux carries the forking parent's own peak (this process, with Dagster and
DuckDB loaded) over the exec into the child's.

With `descendants` (Spark: the local session's JVM is a child of the dbt process, not of
this one), each sample also sums the resident memory (VmRSS) of a dbt process and all its
descendants, every TREE_INTERVAL seconds (a JVM has many threads to list: sampling every
20 ms would cost a core's share); the largest sum is the process tree's peak
(``peak_tree_mb``), up to what changes between samples.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

TREE_INTERVAL = 0.5  # seconds between samples of a dbt process tree's memory


@dataclass
class Child:
    pid: int
    command: str
    first_seen: float  # epoch seconds
    last_seen: float
    peak_kb: int = 0
    peak_tree_kb: int = 0  # largest sampled VmRSS sum with its descendants (if sampled)
    peak_tree: tuple[tuple[str, int], ...] = ()  # that sample: (program, VmRSS kB) each

    @property
    def is_dbt(self) -> bool:
        return any(Path(part).name == "dbt" for part in self.command.split()[:2])


class ChildMonitor:
    """Samples this process's children while it is entered; stops (SIGKILL) a dbt process
    running longer than `timeout` seconds, after calling `on_timeout` with it."""

    def __init__(self, timeout: float | None = None,
                 on_timeout: Callable[[Child], None] | None = None,
                 interval: float = 0.02, descendants: bool = False) -> None:
        self.timeout = timeout
        self.descendants = descendants
        self.on_timeout = on_timeout
        self.interval = interval
        self.children: dict[int, Child] = {}
        self.timed_out: Child | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="child-monitor", daemon=True)
        self._cpu_before = 0.0
        self.cpu_seconds = 0.0  # user + system time of the children that exited meanwhile

    def __enter__(self) -> ChildMonitor:
        self._cpu_before = _children_cpu()
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self.cpu_seconds = _children_cpu() - self._cpu_before

    def peak_mb(self, start: float | None = None, end: float | None = None) -> float:
        """The largest peak of the dbt processes alive in [start, end] (epoch seconds)."""
        peaks = [child.peak_kb for child in self.children.values() if child.is_dbt
                 and (start is None or child.last_seen >= start)
                 and (end is None or child.first_seen <= end)]
        return round(max(peaks, default=0) / 1024, 1)

    def peak_tree_mb(self, start: float | None = None, end: float | None = None) -> float:
        """peak_mb() of the dbt process trees (with `descendants`; else 0)."""
        return round(self._peak_tree(start, end)[0] / 1024, 1)

    def peak_tree_members(self, start: float | None = None,
                          end: float | None = None) -> list[dict[str, float | str]]:
        """The processes of the peak_tree_mb() sample and their resident memory (MB)."""
        return [{"program": program, "rss_mb": round(kb / 1024, 1)}
                for program, kb in self._peak_tree(start, end)[1]]

    def _peak_tree(self, start: float | None,
                   end: float | None) -> tuple[int, tuple[tuple[str, int], ...]]:
        peaks = [(child.peak_tree_kb, child.peak_tree) for child in self.children.values()
                 if child.is_dbt and (start is None or child.last_seen >= start)
                 and (end is None or child.first_seen <= end)]
        return max(peaks, default=(0, ()))

    def _sample(self) -> None:
        tree_due = 0.0
        while not self._stop.is_set():
            now = time.time()
            sample_trees = self.descendants and now >= tree_due
            if sample_trees:
                tree_due = now + TREE_INTERVAL
            for pid in _child_pids():
                child = self.children.get(pid)
                if child is None:
                    child = self.children[pid] = Child(pid, _command(pid), now, now)
                child.last_seen = now
                if not child.is_dbt:
                    # a child seen between its fork and its exec still shows this process's
                    # command and memory: read again until it is dbt, measure only then
                    child.command = _command(pid)
                    if not child.is_dbt:
                        continue
                child.peak_kb = max(child.peak_kb, _peak_kb(pid))
                if sample_trees and child.is_dbt:
                    members = tuple((_program(member), _status_kb(member, "VmRSS:"))
                                    for member in sorted(_tree(pid)))
                    tree = sum(kb for _, kb in members)
                    if tree > child.peak_tree_kb:
                        child.peak_tree_kb, child.peak_tree = tree, members
                if (self.timeout is not None and self.timed_out is None and child.is_dbt
                        and now - child.first_seen > self.timeout):
                    self.timed_out = child
                    if self.on_timeout is not None:
                        self.on_timeout(child)
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            self._stop.wait(self.interval)


def _child_pids(parent: int | None = None) -> set[int]:
    """The live children of `parent` (default this process), of any of its threads."""
    me = parent or os.getpid()
    found: set[int] = set()
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{me}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{me}/task/{task}/children") as f:
                found.update(int(pid) for pid in f.read().split())
    return found


def _tree(pid: int) -> set[int]:
    """`pid` and its live descendants, but for forks not yet exec'd (a descendant showing
    its parent's command: the JVM forks to run a program, e.g. Hadoop's chmod, and such a
    child shares its parent's pages, so its VmRSS would count them twice) and processes
    gone meanwhile."""
    found, todo = {pid}, [pid]
    while todo:
        parent = todo.pop()
        command = _command(parent)
        for child in _child_pids(parent) - found:
            if _command(child) in ("", command):
                continue
            found.add(child)
            todo.append(child)
    return found


def _command(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    return ""


def _program(pid: int) -> str:
    """The program's name of process `pid` (java, python...), "" when gone."""
    command = _command(pid).split()
    return Path(command[0]).name if command else ""


def _peak_kb(pid: int) -> int:
    return _status_kb(pid, "VmHWM:")


def _status_kb(pid: int, field: str) -> int:
    """A kB field of /proc/<pid>/status (VmHWM: peak, VmRSS: now); 0 if gone."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load_average() -> list[float]:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return []
