"""ExecutorService: start, watch, cancel and recover runs.

A run's ansible-runner job runs on a worker thread; its events are handed to the loop with
``call_soon_threadsafe`` and stored in batches (``_ingest.EventWriter``) before being published.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update

from chiffon.bus import EventBus
from chiffon.catalog import CatalogError, CatalogService, Entry, EntryKind
from chiffon.db import SessionFactory, utcnow
from chiffon.lib import proctree
from chiffon.lib.ids import new_correlation_id
from chiffon.lib.redact import redact_mapping, secret_values

from . import runner
from ._checks import OWNER, answer_prompts, existing_inventory, owner_is_gone
from ._ingest import EventWriter
from ._rows import count_events, view_of
from ._types import EventView, LogLine, RunRequest, RunRequestError, RunStatus, RunView
from .events import RunFinished, RunQueued, RunStarted
from .models import Run, RunEvent

log = logging.getLogger("chiffon.executor")


RepoCommit = Callable[[Path], str | None]


@dataclass
class _Active:
    marker: str
    cancelled: threading.Event
    task: asyncio.Task[RunView]


# EventView's fields, in its order.
_EVENT_COLUMNS = (
    RunEvent.run_id, RunEvent.seq, RunEvent.type, RunEvent.host, RunEvent.task,
    RunEvent.stdout, RunEvent.data, RunEvent.created_at,
)  # fmt: skip

# LogLine's fields, in its order: decoding ``data`` (JSON) and ``created_at`` (a datetime
# parsed from text on SQLite) was two thirds of reading a run page's events.
_LOG_COLUMNS = (RunEvent.seq, RunEvent.type, RunEvent.host, RunEvent.task, RunEvent.stdout)

_OUTCOMES = {"successful": RunStatus.SUCCEEDED, "canceled": RunStatus.CANCELLED}


class ExecutorService:
    def __init__(
        self,
        sessions: SessionFactory,
        bus: EventBus,
        catalog: CatalogService,
        runs_dir: Path,
        repo_commit: RepoCommit,
        inventory: str = "",
        batch_size: int = 500,
        max_parallel: int = 8,
        cancel_grace_s: float = 0.5,
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self._catalog = catalog
        self._runs_dir = runs_dir
        self._repo_commit = repo_commit
        self._inventory = inventory
        self._batch_size = batch_size
        self._cancel_grace_s = cancel_grace_s
        self._pool = ThreadPoolExecutor(max_parallel, thread_name_prefix="chiffon-run")
        self._active: dict[int, _Active] = {}
        self._stopping = False

    # -- starting -------------------------------------------------------------------------

    async def _resolve_entry(self, ref: str) -> Entry:
        try:
            entry = await self._catalog.resolve(ref)
        except CatalogError as error:
            raise RunRequestError(str(error)) from None
        if not entry.valid:
            raise RunRequestError(
                f"{entry.path} cannot run: {entry.error}. Fix the file, then run "
                "`chiffon catalog scan`."
            )
        return entry

    async def _resolve_inventory(self, given: str | None) -> str:
        repo = self._catalog.playbooks_dir
        chosen = given or self._inventory
        if not chosen:
            found = await self._catalog.default_inventory()
            if found is None:
                raise RunRequestError(
                    "No inventory: pass -i INVENTORY, set CHIFFON_INVENTORY, or add "
                    f"inventory/hosts.yml to {repo}."
                )
            chosen = found.path
        # Only the operator's CHIFFON_INVENTORY may live elsewhere: an inventory can be a script
        # that ansible executes, so one named in a request must come from the playbook repo.
        return await asyncio.to_thread(existing_inventory, repo, chosen, bool(given))

    async def start_run(self, request: RunRequest) -> RunView:
        """Validate ``request``, store the run as queued and start it.

        Raises ``RunRequestError`` (nothing stored) for a missing or invalid entry, a missing
        inventory or bad extra vars.
        """
        entry = await self._resolve_entry(request.entry)
        inventory = await self._resolve_inventory(request.inventory)
        request = answer_prompts(entry, request)
        if not all(isinstance(name, str) and name.isidentifier() for name in request.extra_vars):
            raise RunRequestError("Extra vars must be a mapping of variable names to values.")
        commit = await asyncio.to_thread(self._repo_commit, self._catalog.playbooks_dir)
        run = Run(
            correlation_id=request.correlation_id or new_correlation_id(),
            entry_kind=str(entry.kind),
            entry_name=entry.name,
            entry_path=entry.path,
            entry_role=entry.role,
            entry_hash=entry.content_hash,
            repo_commit=commit,
            inventory=inventory,
            limit=request.limit or None,
            tags=request.tags or None,
            extra_vars=redact_mapping(request.extra_vars),
            check_mode=request.check,
            status=RunStatus.QUEUED,
            requested_by=request.requested_by,
            owner=OWNER,
            host_stats={},
        )
        async with self._sessions() as session, session.begin():
            session.add(run)
        view = view_of(run)
        await self._bus.publish(RunQueued(run.id, run.correlation_id))
        job = self._job(view, entry, request)
        cancelled = threading.Event()
        task = asyncio.create_task(self._execute(view, job, request, cancelled))
        self._active[run.id] = _Active(run.correlation_id, cancelled, task)
        task.add_done_callback(lambda _: self._active.pop(run.id, None))
        return view

    def _job(self, run: RunView, entry: Entry, request: RunRequest) -> runner.RunnerJob:
        tags = request.tags
        if entry.kind is EntryKind.TAG:
            tags = ",".join(t for t in (entry.name, request.tags) if t)
        common = {
            "marker": run.correlation_id,
            "private_data_dir": self._runs_dir / str(run.id),
            "project_dir": self._catalog.playbooks_dir,
            "inventory": str(self._catalog.playbooks_dir / run.inventory),
            "limit": request.limit,
            "tags": tags,
            "extra_vars": dict(request.extra_vars),
            "check": request.check,
        }
        if entry.kind is EntryKind.ROLE:
            return runner.RunnerJob(role=entry.name, role_hosts=entry.hosts or "all", **common)  # type: ignore[arg-type]
        return runner.RunnerJob(playbook=entry.path, **common)  # type: ignore[arg-type]

    # -- running --------------------------------------------------------------------------

    async def _execute(
        self,
        run: RunView,
        job: runner.RunnerJob,
        request: RunRequest,
        cancelled: threading.Event,
    ) -> RunView:
        loop = asyncio.get_running_loop()
        writer = EventWriter(
            self._sessions, self._bus, run.id, run.correlation_id,
            secret_values(request.extra_vars), self._batch_size,
        )  # fmt: skip
        if cancelled.is_set():
            return await self._finish(run.id, RunStatus.CANCELLED, None, None, writer)
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(Run)
                .where(Run.id == run.id)
                .values(status=RunStatus.RUNNING, started_at=utcnow())
            )
        await self._bus.publish(RunStarted(run.id, run.correlation_id))
        writer.start()

        def on_event(event: runner.RunnerEvent) -> None:
            loop.call_soon_threadsafe(writer.put, event)

        try:
            outcome = await loop.run_in_executor(
                self._pool, runner.run_job, job, on_event, cancelled
            )
        except Exception as crash:  # never leave a run 'running' because of a bug here
            log.exception("run %s crashed", run.id, extra={"correlation_id": run.correlation_id})
            outcome = runner.RunnerOutcome("failed", None, f"Chiffon error: {crash}")
        status = _OUTCOMES.get(outcome.status, RunStatus.FAILED)
        error = outcome.error
        if cancelled.is_set() and self._stopping:
            status, error = RunStatus.INTERRUPTED, "Chiffon was stopped during this run."
        elif cancelled.is_set():
            status, error = RunStatus.CANCELLED, "Cancelled by a person."
        elif outcome.status == "timeout":
            error = "The run timed out."
        return await self._finish(run.id, status, outcome.rc, error, writer)

    async def _finish(
        self,
        run_id: int,
        status: RunStatus,
        rc: int | None,
        error: str | None,
        writer: EventWriter,
    ) -> RunView:
        await writer.close()
        if status is RunStatus.SUCCEEDED and not writer.host_stats:
            # ansible-playbook exits 0 when no host matched: nothing ran, which is no success.
            status = RunStatus.FAILED
            error = (
                "No host matched the play's hosts and --limit, so nothing ran. Check the "
                "inventory and the limit."
            )
        async with self._sessions() as session, session.begin():
            run = await session.get_one(Run, run_id)
            run.status = status
            run.rc = rc
            run.error = error
            run.finished_at = utcnow()
            run.event_count = writer.count
            if writer.host_stats is not None:
                run.host_stats = writer.host_stats
        view = view_of(run)
        await self._bus.publish(RunFinished(run_id, str(status), rc, view.correlation_id))
        return view

    async def wait_for(self, run_id: int, poll_s: float = 0.25) -> RunView:
        """The run once finished (waits on this process's task, or polls the database)."""
        active = self._active.get(run_id)
        if active is not None:
            await asyncio.shield(active.task)
        while True:
            view = await self.get_run(run_id)
            if view is None:
                raise LookupError(f"run {run_id} does not exist")
            if view.status.is_finished and run_id not in self._active:
                return view
            await asyncio.sleep(poll_s)

    async def cancel_run(self, run_id: int) -> bool:
        """Stop a queued or running run and its whole process tree; False if not active here."""
        active = self._active.get(run_id)
        if active is None or active.task.done():
            return False
        active.cancelled.set()
        # ansible-runner notices within its pexpect timeout (0.2 s) and kills the process
        # group; a task's children may have left that group, so kill everything marked.
        await asyncio.sleep(self._cancel_grace_s)
        await asyncio.to_thread(self._kill_run_processes, active.marker)
        return True

    @staticmethod
    def _kill_run_processes(marker: str) -> int:
        return proctree.kill(proctree.marked_processes(runner.RUN_MARKER, marker))

    async def stop(self) -> None:
        """Cancel every active run (service shutdown) and wait for them to be recorded."""
        self._stopping = True
        for run_id in list(self._active):
            active = self._active.get(run_id)
            if active is not None:
                active.cancelled.set()
                await asyncio.to_thread(self._kill_run_processes, active.marker)
        tasks = [a.task for a in self._active.values()]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- recovery -------------------------------------------------------------------------

    async def recover(self) -> list[int]:
        """Mark runs whose Chiffon process died (on this host) as interrupted; return their ids.

        A run belongs to the process named in its ``owner``; runs of a live process (a
        ``chiffon run`` beside the server) and of other hosts are left alone.
        """
        active = [RunStatus.QUEUED, RunStatus.RUNNING]
        async with self._sessions() as session, session.begin():
            rows = (await session.scalars(select(Run).where(Run.status.in_(active)))).all()
            orphans = [
                run for run in rows if run.id not in self._active and owner_is_gone(run.owner)
            ]
            for run in orphans:
                run.status = RunStatus.INTERRUPTED
                run.finished_at = utcnow()
                run.error = "Chiffon stopped while this run was in progress."
                run.event_count = await count_events(session, run.id)
        for run in orphans:
            killed = await asyncio.to_thread(self._kill_run_processes, run.correlation_id)
            if killed:
                log.warning("killed %d leftover processes of run %s", killed, run.id)
            await self._bus.publish(
                RunFinished(run.id, RunStatus.INTERRUPTED, None, run.correlation_id)
            )
        return [run.id for run in orphans]

    # -- reading --------------------------------------------------------------------------

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
        self, run_id: int, after_seq: int = 0, limit: int = 1000
    ) -> list[EventView]:
        # Plain column rows, not ORM objects: building (and tracking) an entity per row took
        # about 40% of reading a thousand events (the live view's backlog, the events API).
        async with self._sessions() as session:
            rows = await session.execute(
                select(*_EVENT_COLUMNS)
                .where(RunEvent.run_id == run_id, RunEvent.seq > after_seq)
                .order_by(RunEvent.seq)
                .limit(limit)
            )
            return [EventView(*row) for row in rows]

    async def list_log(self, run_id: int, after_seq: int = 0, limit: int = 1000) -> list[LogLine]:
        """The run's events with ``seq > after_seq`` as ``LogLine``s, in order."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(*_LOG_COLUMNS)
                .where(RunEvent.run_id == run_id, RunEvent.seq > after_seq)
                .order_by(RunEvent.seq)
                .limit(limit)
            )
            return [LogLine(*row) for row in rows]

    async def set_audit_commit(self, run_id: int, commit_sha: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(Run).where(Run.id == run_id).values(audit_commit=commit_sha)
            )
