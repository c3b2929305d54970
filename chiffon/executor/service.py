"""ExecutorService: start, watch, cancel and recover runs.

A run's ansible-runner job runs on a worker thread; its events are handed to the loop with
``call_soon_threadsafe`` and stored in batches (``_ingest.EventWriter``) before being published.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update

from chiffon.bus import EventBus
from chiffon.catalog import CatalogError, CatalogService, Entry
from chiffon.db import SessionFactory, utcnow
from chiffon.lib import proctree
from chiffon.lib.ids import new_correlation_id
from chiffon.lib.redact import redact_mapping, secret_values

from . import headstart, runner
from ._capacity import CapacityGate, CapacitySignal, await_placement, with_candidate_hosts
from ._checks import OWNER, answer_prompts, check_runnable, existing_inventory, owner_is_gone
from ._ingest import EventWriter
from ._jobs import runner_job
from ._reads import RunReads
from ._rows import count_events, store_usage, view_of
from ._types import RunRequest, RunRequestError, RunStatus, RunView
from ._usage import ResourceUsage
from .events import RunFinished, RunPausedForCapacity, RunQueued, RunStarted
from .models import Run

log = logging.getLogger("chiffon.executor")


RepoCommit = Callable[[Path], str | None]


@dataclass
class _Active:
    marker: str
    cancelled: threading.Event
    task: asyncio.Task[RunView]


_OUTCOMES = {"successful": RunStatus.SUCCEEDED, "canceled": RunStatus.CANCELLED}


class ExecutorService(RunReads):
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
        capacity: CapacityGate | None = None,
        capacity_wait_s: float = 3600,
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
        self._capacity = capacity
        self._capacity_wait_s = capacity_wait_s
        self._capacity_signal = CapacitySignal()

    # -- starting -------------------------------------------------------------------------

    async def _resolve_entry(self, ref: str) -> Entry:
        try:
            entry = await self._catalog.resolve(ref)
        except CatalogError as error:
            raise RunRequestError(str(error)) from None
        check_runnable(entry)
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

    async def start_run(
        self, request: RunRequest, head_start: headstart.HeadStart | None = None
    ) -> RunView:
        """Validate ``request``, store the run as queued and start it.

        Raises ``RunRequestError`` (nothing stored) for a missing or invalid entry, a missing
        inventory or bad extra vars. ``head_start``, an ansible-playbook started ahead on the
        job the request will likely make and held before it reads the repo (``chiffon run``),
        becomes the run when its job is exactly the request's; else it is aborted.
        """
        try:
            return await self._start_run(request, head_start)
        except BaseException:
            if head_start is not None:
                head_start.abort()  # a no-op once the run took it
            raise

    async def _start_run(
        self, request: RunRequest, head_start: headstart.HeadStart | None
    ) -> RunView:
        entry = await self._resolve_entry(request.entry)
        inventory = await self._resolve_inventory(request.inventory)
        request = answer_prompts(entry, request)
        if not all(isinstance(name, str) and name.isidentifier() for name in request.extra_vars):
            raise RunRequestError("Extra vars must be a mapping of variable names to values.")
        request = with_candidate_hosts(request, self._capacity is not None)
        head = self._adopt(head_start, entry, inventory, request)
        commit = await asyncio.to_thread(self._repo_commit, self._catalog.playbooks_dir)
        run = Run(
            correlation_id=head.marker if head else request.correlation_id or new_correlation_id(),
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
        if request.needs is not None:
            run.needs = {**request.needs.to_json(), "hosts": list(request.hosts)}
        async with self._sessions() as session, session.begin():
            session.add(run)
        view = view_of(run)
        await self._bus.publish(RunQueued(run.id, run.correlation_id))
        if head is not None:
            job, cancelled = head.job, head.cancelled
        else:
            scratch = self._runs_dir / str(run.id)
            job = runner_job(
                self._catalog.playbooks_dir, run.correlation_id, scratch, inventory, entry, request
            )
            cancelled = threading.Event()
        task = asyncio.create_task(self._execute(view, job, request, cancelled, head))
        self._active[run.id] = _Active(run.correlation_id, cancelled, task)
        task.add_done_callback(lambda _: self._active.pop(run.id, None))
        return view

    def _adopt(
        self,
        head: headstart.HeadStart | None,
        entry: Entry,
        inventory: str,
        request: RunRequest,
    ) -> headstart.HeadStart | None:
        """``head`` when its job is the one this checked request makes (else it is aborted)."""
        if head is None:
            return None
        if request.correlation_id is None and request.needs is None:
            job = runner_job(
                self._catalog.playbooks_dir, head.marker, head.job.private_data_dir,
                inventory, entry, request,
            )  # fmt: skip
            if head.matches(job):
                return head
        head.abort()
        return None

    async def _place(
        self, run: RunView, request: RunRequest, cancelled: threading.Event
    ) -> tuple[RunStatus, str] | str:
        """The host the run goes to (stored), or the status and error it ends with."""
        assert self._capacity is not None and request.needs is not None

        async def pause(reason: str) -> None:
            async with self._sessions() as session, session.begin():
                await session.execute(
                    update(Run)
                    .where(Run.id == run.id)
                    .values(status=RunStatus.PAUSED_CAPACITY, placement_reason=reason)
                )
            await self._bus.publish(RunPausedForCapacity(run.id, reason, run.correlation_id))

        outcome = await await_placement(
            self._capacity, self._capacity_signal, run.id, request.needs, request.hosts,
            self._capacity_wait_s, cancelled, pause,
        )  # fmt: skip
        if outcome.cancelled:
            if self._stopping:
                return RunStatus.INTERRUPTED, "Chiffon was stopped while this run waited."
            return RunStatus.CANCELLED, "Cancelled by a person."
        if outcome.host is None:
            return RunStatus.FAILED, (
                f"No host had the capacity this run needs within {self._capacity_wait_s:g} s. "
                + outcome.reason
            )
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(Run)
                .where(Run.id == run.id)
                .values(placed_host=outcome.host, placement_reason=outcome.reason)
            )
        return outcome.host

    def capacity_changed(self, host: str | None = None) -> None:
        """An agent reported: runs paused for capacity on ``host`` look again."""
        self._capacity_signal.notify(host)

    # -- running --------------------------------------------------------------------------

    async def _execute(
        self,
        run: RunView,
        job: runner.RunnerJob,
        request: RunRequest,
        cancelled: threading.Event,
        head: headstart.HeadStart | None = None,
    ) -> RunView:
        try:
            return await self._execute_job(run, job, request, cancelled, head)
        finally:
            if head is not None:
                head.abort()  # not let through (cancelled while queued): it ran nothing

    async def _execute_job(
        self,
        run: RunView,
        job: runner.RunnerJob,
        request: RunRequest,
        cancelled: threading.Event,
        head: headstart.HeadStart | None,
    ) -> RunView:
        loop = asyncio.get_running_loop()
        writer = EventWriter(
            self._sessions, self._bus, run.id, run.correlation_id,
            secret_values(request.extra_vars), self._batch_size,
        )  # fmt: skip
        if cancelled.is_set():
            return await self._finish(run.id, RunStatus.CANCELLED, None, None, writer)
        if request.needs is not None:
            placed = await self._place(run, request, cancelled)
            if not isinstance(placed, str):
                return await self._finish(run.id, placed[0], None, placed[1], writer)
            job = dataclasses.replace(job, limit=placed)
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
            if head is not None:
                outcome = await asyncio.wrap_future(head.release(on_event))
            else:
                outcome = await loop.run_in_executor(
                    self._pool, runner.run_job, job, on_event, cancelled
                )
        except Exception as crash:  # never leave a run 'running' because of a bug here
            log.exception("run %s crashed", run.id, extra={"correlation_id": run.correlation_id})
            outcome = runner.RunnerOutcome("failed", None, f"Chiffon error: {crash}")
        status = _OUTCOMES.get(outcome.status, RunStatus.FAILED)
        error = outcome.error
        if cancelled.is_set():
            # ansible-runner killed ansible-playbook's process group; the task's worker (its
            # own session) and what it started live on: the run ends when they are gone too.
            await asyncio.to_thread(self._kill_run_processes, job.marker)
        if cancelled.is_set() and self._stopping:
            status, error = RunStatus.INTERRUPTED, "Chiffon was stopped during this run."
        elif cancelled.is_set():
            status, error = RunStatus.CANCELLED, "Cancelled by a person."
        elif outcome.status == "timeout":
            error = "The run timed out."
        return await self._finish(run.id, status, outcome.rc, error, writer, outcome.usage)

    async def _finish(
        self,
        run_id: int,
        status: RunStatus,
        rc: int | None,
        error: str | None,
        writer: EventWriter,
        usage: ResourceUsage | None = None,
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
            store_usage(run, usage)
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
        self._capacity_signal.notify()
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
                self._capacity_signal.notify()
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
        active = [RunStatus.QUEUED, RunStatus.PAUSED_CAPACITY, RunStatus.RUNNING]
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
