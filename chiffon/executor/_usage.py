"""What a run's ansible process tree used: wall time, CPU time (user + system), peak memory.

How, and where the figures fall short:

- The tree is ansible-playbook, this process's child that carries ``CHIFFON_RUN=<id>``, and
  every process below it by parent links; a thread reads it from /proc (``proctree``) after
  0.1, 0.3 and 0.7 s, then every ``interval_s`` (1 s): a few ms of CPU for each sample.
- CPU, exact when this run was the only one measured in this process from start to end: when
  ansible-runner reaps ansible-playbook, the kernel adds its time and that of every descendant
  it waited for to this process's RUSAGE_CHILDREN. With several runs at once that counter
  mixes them, so the figure is the largest sample instead (each live process's own time plus
  that of the children it has reaped): it misses what the tree used after the last sample.
- Peak RSS: the largest sum of the tree's resident sizes over the samples, or the largest
  high-water mark (VmHWM) of one process seen if more. A peak between two samples in a process
  that came and went between them is missed; pages shared between processes count for each.
- A process that leaves the tree (a daemon reparented to init) is not followed.
- Wall: from ansible-runner's start to its end, its set-up of the run's private dir included.
"""

from __future__ import annotations

import os
import resource
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar

from chiffon.lib import proctree

_FIRST_SAMPLES_S = (0.1, 0.2, 0.4)  # waits before the first samples: short runs get some too


@dataclass(frozen=True)
class ResourceUsage:
    wall_s: float
    cpu_s: float
    peak_rss_bytes: int | None  # None: the run ended before its first sample

    def to_json(self) -> dict[str, Any]:
        return {"wall_s": self.wall_s, "cpu_s": self.cpu_s, "peak_rss_bytes": self.peak_rss_bytes}


def _reaped_children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class UsageMeter:
    """Measures one run's tree while ansible-runner runs it: ``with meter: ...``, then ``usage``."""

    _lock = threading.Lock()
    _active: ClassVar[set[UsageMeter]] = set()  # the meters running in this process

    def __init__(self, marker_name: str, marker_value: str, interval_s: float = 1.0) -> None:
        self._marker = (marker_name, marker_value)
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)
        self._root: int | None = None
        self._cpu_s = 0.0
        self._peak_rss_bytes: int | None = None
        self._solo = True
        self._reaped_before = 0.0
        self._started = 0.0
        self.usage: ResourceUsage | None = None

    def __enter__(self) -> UsageMeter:
        with UsageMeter._lock:
            for other in UsageMeter._active:
                other._solo = False
            self._solo = not UsageMeter._active
            UsageMeter._active.add(self)
            self._reaped_before = _reaped_children_cpu_s()
        self._started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        wall_s = time.perf_counter() - self._started
        self._stop.set()
        self._thread.join()
        with UsageMeter._lock:
            UsageMeter._active.discard(self)
            reaped = _reaped_children_cpu_s() - self._reaped_before
            solo = self._solo
        cpu_s = reaped if solo else self._cpu_s
        self.usage = ResourceUsage(round(wall_s, 3), round(cpu_s, 3), self._peak_rss_bytes)

    def _sample_until_stopped(self) -> None:
        waits = iter(_FIRST_SAMPLES_S)
        while not self._stop.wait(next(waits, self._interval_s)):
            self._sample()

    def _find_root(self, samples: dict[int, proctree.ProcessSample]) -> int | None:
        if self._root in samples:
            return self._root
        me = os.getpid()
        for sample in samples.values():
            if sample.parent == me and proctree.has_marker(sample.pid, *self._marker):
                self._root = sample.pid
                return sample.pid
        return None

    def _sample(self) -> None:
        samples = proctree.sample_all()
        root = self._find_root(samples)
        if root is None:
            return
        tree = proctree.descendants(samples, root)
        self._cpu_s = max(self._cpu_s, sum(samples[pid].cpu_s for pid in tree))
        resident = sum(samples[pid].rss_bytes for pid in tree)
        largest = max(proctree.peak_rss_bytes(pid) for pid in tree)
        self._peak_rss_bytes = max(self._peak_rss_bytes or 0, resident, largest)
