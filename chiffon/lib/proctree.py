"""Finding and killing a run's processes through /proc (Linux).

ansible-runner kills the process group of ansible-playbook on cancel, but a task's own
children can leave that group; every process of a run carries ``CHIFFON_RUN_ID`` in its
environment, so the whole tree is found by that marker plus parent links.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

PROC = Path("/proc")


def _pids() -> list[int]:
    return [int(p.name) for p in PROC.iterdir() if p.name.isdigit()]


def _parent(pid: int) -> int | None:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may contain spaces and parentheses: split after the last ')'
    return int(stat.rsplit(")", 1)[1].split()[1])


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
