"""LiveRuns: fans a run's events out to every viewer of its live log.

Each viewer (an SSE connection) gets a ``stream``: the run's stored events after the viewer's
last seen sequence number, then the live ones as the executor publishes them, in order, each
once, ending after the run's last event. Correctness rests on two facts the executor
guarantees: an event is stored before it is published, and ``RunFinished`` is published after
the run's last event. So a stream subscribes FIRST and only then reads the backlog from the
database; every event is then either in what it reads or arrives afterwards on its queue, and
sequence numbers drop the ones that are both.

Publishing never waits on a viewer: each viewer has a bounded queue, and a viewer that falls
that far behind is marked overflowed and its queue is emptied; it then catches up from the
database (where everything it missed already is) and rejoins the live feed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator

from chiffon.bus import Subscriptions
from chiffon.executor import EventView, ExecutorService, RunEventRecorded, RunFinished

__all__ = ["LiveRuns"]

log = logging.getLogger("chiffon.web.live")

_WAKE = None  # queue item that only wakes the viewer up (run finished, or shutting down)


class _Viewer:
    __slots__ = ("finished", "overflowed", "queue")

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[EventView | None] = asyncio.Queue(maxsize=size)
        self.overflowed = False
        self.finished = False

    def push(self, item: EventView | None) -> None:
        if self.overflowed:
            return  # its catch-up from the database will read this one
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflowed = True
            _clear(self.queue)
            self.queue.put_nowait(_WAKE)


def _clear(queue: asyncio.Queue[EventView | None]) -> None:
    while not queue.empty():
        queue.get_nowait()


class LiveRuns:
    def __init__(
        self,
        executor: ExecutorService,
        queue_size: int = 1000,
        page_size: int = 500,
        poll_s: float = 5.0,
        tick_s: float = 1.0,
    ) -> None:
        self._executor = executor
        self._queue_size = queue_size
        self._page_size = page_size
        # A run started by another process (``chiffon run``) publishes on that process's
        # bus, so a viewer also re-reads the database when nothing arrived for this long.
        self._poll_s = poll_s
        self._tick_s = tick_s  # how often a heartbeat stream yields None while idle
        self._viewers: dict[int, set[_Viewer]] = {}
        self._closed = False

    def subscriptions(self) -> Subscriptions:
        return {
            RunEventRecorded: [self.when_run_event_recorded_push],
            RunFinished: [self.when_run_finished_end_streams],
        }

    @property
    def viewer_count(self) -> int:
        return sum(len(viewers) for viewers in self._viewers.values())

    async def when_run_event_recorded_push(self, event: RunEventRecorded) -> None:
        viewers = self._viewers.get(event.run_id)
        if not viewers:
            return
        # One shared immutable view per event, however many viewers. Live events carry no
        # ``data``; the log and the progress only need the fields the event has.
        view = EventView(
            event.run_id, event.seq, event.type, event.host, event.task, event.stdout, {},
            event.created_at,
        )  # fmt: skip
        for viewer in viewers:
            viewer.push(view)

    async def when_run_finished_end_streams(self, event: RunFinished) -> None:
        for viewer in self._viewers.get(event.run_id, ()):
            viewer.finished = True
            viewer.push(_WAKE)

    async def close(self) -> None:
        """End every open stream (service shutdown) so no connection holds the server open."""
        self._closed = True
        for viewers in self._viewers.values():
            for viewer in viewers:
                viewer.push(_WAKE)

    async def stream(
        self, run_id: int, after_seq: int = 0, heartbeat: bool = False
    ) -> AsyncGenerator[EventView | None, None]:
        """Yield run ``run_id``'s events with ``seq > after_seq`` in order, each once.

        Ends once the run is finished and its last event was yielded, at once for a run that
        does not exist, and when the service shuts down. With ``heartbeat`` it also yields
        ``None`` each time it has caught up (nothing more is waiting: a good moment to redraw
        a summary) and every ``tick_s`` while nothing happens (for keep-alives and redraws).
        """
        viewer = _Viewer(self._queue_size)
        self._viewers.setdefault(run_id, set()).add(viewer)  # subscribe before reading
        last = after_seq
        tick = min(self._tick_s, self._poll_s) if heartbeat else self._poll_s
        idle = 0.0
        try:
            async for event in self._backlog(run_id, last):
                last = event.seq
                yield event
            run = await self._executor.get_run(run_id)
            if run is None or run.status.is_finished:
                # It may have finished after the backlog was read: read what came since.
                async for event in self._backlog(run_id, last):
                    yield event
                return
            if heartbeat:
                yield None
            while not self._closed:
                if viewer.finished and viewer.queue.empty():
                    async for event in self._backlog(run_id, last):
                        yield event
                    return
                if viewer.overflowed or idle >= self._poll_s:
                    viewer.overflowed, idle = False, 0.0
                    _clear(viewer.queue)  # whatever it holds is in the database too
                    async for event in self._backlog(run_id, last):
                        last = event.seq
                        yield event
                    run = await self._executor.get_run(run_id)
                    viewer.finished = viewer.finished or run is None or run.status.is_finished
                    if heartbeat:
                        yield None
                    continue
                try:
                    async with asyncio.timeout(tick):
                        item = await viewer.queue.get()
                except TimeoutError:
                    idle += tick
                    if heartbeat:
                        yield None
                    continue
                idle = 0.0
                if item is not None and item.seq > last:
                    last = item.seq
                    yield item
                    if heartbeat and viewer.queue.empty():
                        yield None
        finally:
            viewers = self._viewers.get(run_id)
            if viewers is not None:
                viewers.discard(viewer)
                if not viewers:
                    del self._viewers[run_id]

    async def _backlog(self, run_id: int, after_seq: int) -> AsyncIterator[EventView]:
        """The stored events after ``after_seq``, read page by page."""
        while True:
            page = await self._executor.list_events(run_id, after_seq, self._page_size)
            for event in page:
                yield event
            if len(page) < self._page_size:
                return
            after_seq = page[-1].seq
