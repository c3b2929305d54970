"""Finding, measuring and killing a run's processes through /proc (Linux).

ansible-runner kills the process group of ansible-playbook on cancel, but a task's own
children can leave that group; every process of a run carries ``CHIFFON_RUN=<id>`` in its
environment, so the whole tree is found by that marker plus parent links.

/proc is read directly rather than through psutil: one ``stat`` file per process holds the
parent, the CPU times and the resident size, and psutil's import alone costs more than a
run's sampling does.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
_TICK_S = 1 / os.sysconf("SC_CLK_TCK")
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class ProcessSample:
    pid: int
    parent: int
    cpu_s: float  # user + system, its own and that of the children it has waited for
    rss_bytes: int


def _pids() -> list[int]:
    return [int(p.name) for p in PROC.iterdir() if p.name.isdigit()]


def _parent(pid: int) -> int | None:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may contain spaces and parentheses: split after the last ')'
    return int(stat.rsplit(")", 1)[1].split()[1])


def _stat_fields(pid: int) -> list[bytes] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            stat = file.read()
    except OSError:
        return None
    # the command name (field 2) may contain spaces and parentheses: split after the last ')'
    return stat.rsplit(b")", 1)[1].split()


def sample_all() -> dict[int, ProcessSample]:
    """Every process's parent, CPU time and resident size, read once (a few ms for hundreds)."""
    found: dict[int, ProcessSample] = {}
    for pid in _pids():
        fields = _stat_fields(pid)
        if fields is None:
            continue
        # proc(5): 4 ppid, 14 utime, 15 stime, 16 cutime, 17 cstime, 24 rss; fields[0] is 3
        ticks = int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
        found[pid] = ProcessSample(
            pid, int(fields[1]), ticks * _TICK_S, int(fields[21]) * _PAGE_BYTES
        )
    return found


def descendants(samples: dict[int, ProcessSample], root: int) -> set[int]:
    """``root`` and every process below it in ``samples``."""
    children: dict[int, list[int]] = {}
    for sample in samples.values():
        children.setdefault(sample.parent, []).append(sample.pid)
    found, stack = {root}, [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found & samples.keys()


def peak_rss_bytes(pid: int) -> int:
    """The most memory ``pid`` has held resident so far (VmHWM); 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as file:
            for line in file:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def has_marker(pid: int, name: str, value: str) -> bool:
    """Whether ``pid``'s environment holds ``name=value``."""
    return _has_marker(pid, f"{name}={value}".encode())


def _has_marker(pid: int, marker: bytes) -> bool:
    try:
        environ = (PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return False
    return marker in environ.split(b"\0")


def marked_processes(name: str, value: str) -> set[int]:
    """Pids whose environment holds ``name=value``, with all their descendants."""
    marker = f"{name}={value}".encode()
    me = os.getpid()
    pids = _pids()
    found = {pid for pid in pids if pid != me and _has_marker(pid, marker)}
    children: dict[int, list[int]] = {}
    for pid in pids:
        parent = _parent(pid)
        if parent is not None:
            children.setdefault(parent, []).append(pid)
    stack = list(found)
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found and child != me:
                found.add(child)
                stack.append(child)
    return found


def kill(pids: set[int], sig: signal.Signals = signal.SIGKILL) -> int:
    """Send ``sig`` to each pid; return how many were still there."""
    sent = 0
    for pid in pids:
        try:
            os.kill(pid, sig)
            sent += 1
        except (ProcessLookupError, PermissionError):
            pass
    return sent
