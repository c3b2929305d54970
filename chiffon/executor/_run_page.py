"""What a run page shows of the run's events: the first ``LOG_PAGE`` lines, and the progress
folded from all of them.

A run's events are only ever added (never changed, never removed while the run exists), so
how many there are names exactly which: a finished run's lines and progress are kept by
(run, correlation id, number of events read), and each page first counts the events now in
the database; a run that gained one is read again. Reading and folding a thousand events
was about half of the run page's time, for a log that no longer changes.
"""

from __future__ import annotations

from collections import OrderedDict

from chiffon.executor._types import LogLine, RunView
from chiffon.executor.service import ExecutorService
from chiffon.web.progress import Progress

__all__ = ["LOG_PAGE", "RunLogs"]

LOG_PAGE = 1000  # events rendered into the run page; the live stream sends the rest
# Events read per query for the progress: above LOG_PAGE, so that a run of LOG_PAGE events
# (a common size) is read in one query instead of a second one that finds nothing.
_READ = 5000

_Key = tuple[ExecutorService, int, str, int]


class RunLogs:
    """The log and progress of the last few finished runs asked for."""

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._kept: OrderedDict[_Key, tuple[list[LogLine], Progress]] = OrderedDict()

    async def read(self, executor: ExecutorService, run: RunView) -> tuple[list[LogLine], Progress]:
        """The run's first ``LOG_PAGE`` events and the progress of all of them, as the
        database holds them now. (The lists are shared: read them, do not change them.)"""
        if not run.status.is_finished:  # still growing: nothing worth keeping
            return (await _read(executor, run.id))[:2]
        count = await executor.count_log(run.id)
        key = (executor, run.id, run.correlation_id, count)
        kept = self._kept.get(key)
        if kept is not None:
            self._kept.move_to_end(key)
            return kept
        log, progress, read = await _read(executor, run.id)
        self._kept[(executor, run.id, run.correlation_id, read)] = (log, progress)
        if len(self._kept) > self._size:
            self._kept.popitem(last=False)
        return log, progress


async def _read(executor: ExecutorService, run_id: int) -> tuple[list[LogLine], Progress, int]:
    """The first ``LOG_PAGE`` events, the progress folded from all, and how many there were."""
    log: list[LogLine] = []
    progress = Progress()
    after = read = 0
    while True:
        page = await executor.list_log(run_id, after, _READ)
        read += len(page)
        for event in page:
            progress.add(event)
        if len(log) < LOG_PAGE:
            log.extend(page[: LOG_PAGE - len(log)])
        if len(page) < _READ:
            return log, progress, read
        after = page[-1].seq
