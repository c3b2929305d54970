"""What the executor reads back: runs, their events and their log lines, for pages and APIs."""

from __future__ import annotations

import statistics
from collections.abc import Collection

from sqlalchemy import select, update

from chiffon.db import SessionFactory

from ._rows import count_events, view_of
from ._types import EventView, LogLine, RunStatus, RunView
from .models import Run, RunEvent

# EventView's fields, in its order.
_EVENT_COLUMNS = (
    RunEvent.run_id, RunEvent.seq, RunEvent.type, RunEvent.host, RunEvent.task,
    RunEvent.stdout, RunEvent.data, RunEvent.created_at,
)  # fmt: skip

# LogLine's fields, in its order: decoding ``data`` (JSON) and ``created_at`` (a datetime
# parsed from text on SQLite) was two thirds of reading a run page's events. The table's
# columns, not the mapped attributes: a Core select skips the ORM's row handling, a fifth
# of reading a thousand events.
_EVENTS = RunEvent.__table__.c
_LOG_COLUMNS = (_EVENTS.seq, _EVENTS.type, _EVENTS.host, _EVENTS.task, _EVENTS.stdout)


class RunReads:
    """The reading half of ``ExecutorService`` (which sets ``_sessions``)."""

    _sessions: SessionFactory

    async def get_run(self, run_id: int) -> RunView | None:
        async with self._sessions() as session:
            run = await session.get(Run, run_id)
            return view_of(run) if run else None

    async def list_runs(self, limit: int = 50, offset: int = 0) -> list[RunView]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Run).order_by(Run.id.desc()).limit(limit).offset(offset)
            )
            return [view_of(run) for run in rows]

    async def finished_runs(self) -> list[RunView]:
        finished = [s.value for s in RunStatus if s.is_finished]
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Run).where(Run.status.in_(finished)).order_by(Run.id)
            )
            return [view_of(run) for run in rows]

    async def finished_runs_without_audit(self) -> list[int]:
        finished = [s.value for s in RunStatus if s.is_finished]
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Run.id)
                .where(Run.status.in_(finished), Run.audit_commit.is_(None))
                .order_by(Run.id)
            )
            return list(rows)

    async def typical_duration(self, kind: str, path: str, name: str) -> float | None:
        """The median wall time in seconds of the last 20 finished real (not check-mode) runs
        of this entry that succeeded or failed; None without such history."""
        ended = [str(RunStatus.SUCCEEDED), str(RunStatus.FAILED)]
        async with self._sessions() as session:
            rows = await session.execute(
                select(Run.started_at, Run.finished_at)
                .where(
                    Run.entry_kind == kind,
                    Run.entry_path == path,
                    Run.entry_name == name,
                    Run.check_mode.is_(False),
                    Run.status.in_(ended),
                    Run.started_at.is_not(None),
                    Run.finished_at.is_not(None),
                )
                .order_by(Run.id.desc())
                .limit(20)
            )
            seconds = [(end - start).total_seconds() for start, end in rows if start and end]
        return round(statistics.median(seconds), 1) if seconds else None

    async def list_events(
        self,
        run_id: int,
        after_seq: int = 0,
        limit: int = 1000,
        types: Collection[str] | None = None,
    ) -> list[EventView]:
        """The run's events after ``after_seq`` in order; only those of ``types`` when given
        (the analyzer reads a 10,000-event run's few failures without the rest)."""
        # Plain column rows, not ORM objects: building (and tracking) an entity per row took
        # about 40% of reading a thousand events (the live view's backlog, the events API).
        statement = select(*_EVENT_COLUMNS).where(
            RunEvent.run_id == run_id, RunEvent.seq > after_seq
        )
        if types is not None:
            statement = statement.where(RunEvent.type.in_(list(types)))
        async with self._sessions() as session:
            rows = await session.execute(statement.order_by(RunEvent.seq).limit(limit))
            return [EventView(*row) for row in rows]

    async def count_log(self, run_id: int) -> int:
        """How many events the run has recorded so far (they are only ever added)."""
        async with self._sessions() as session:
            return await count_events(session, run_id)

    async def list_log(self, run_id: int, after_seq: int = 0, limit: int = 1000) -> list[LogLine]:
        """The run's events with ``seq > after_seq`` as ``LogLine``s, in order."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(*_LOG_COLUMNS)
                .where(_EVENTS.run_id == run_id, _EVENTS.seq > after_seq)
                .order_by(_EVENTS.seq)
                .limit(limit)
            )
            # ``all()`` fetches the rows at once (iterating the result fetches them one by one).
            return list(map(LogLine._make, rows.all()))

    async def set_audit_commit(self, run_id: int, commit_sha: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(Run).where(Run.id == run_id).values(audit_commit=commit_sha)
            )
