"""The audit trail: finished runs and decided plans committed to a git repo, the audit list,
and a check that DB and git agree.

Each commit goes through an outbox row in ``audit_records`` (see ``_outbox``): claimed before
the git commit, completed with its sha after, then ``RunAudited`` / ``PlanAudited`` is
published so the executor / approval stores the sha on its own row. A row left without a sha
by a crash is taken over by ``commit_pending`` at the next start.

A plan's record names its runs' audit commits, so a plan is committed only once every run it
made has one: on ``PlanDecided`` when they all do, else on the ``RunAudited`` of the last one
(and by the start-up sweep, which commits runs before plans).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

from chiffon.approval import ChangeView, PlanDecided
from chiffon.audit._index import failure_of, plan_index, run_index, service_names
from chiffon.audit._outbox import Outbox
from chiffon.audit._records import (
    AUTHOR,
    SUBJECT_PLAN,
    SUBJECT_RUN,
    iso,
    plan_commit_message,
    plan_record,
    plan_record_path,
    record_bytes,
    record_path,
    run_commit_message,
    run_record,
)
from chiffon.audit._search import AuditEntry, AuditFilter, entry_of, query
from chiffon.audit._types import (
    AuditDetail,
    EntryResolver,
    NoPlans,
    PlanReader,
    RunReader,
    parsed,
)
from chiffon.audit._verify import VerifyReport, commit_problems
from chiffon.audit.events import PlanAudited, RunAudited
from chiffon.audit.models import AuditRecord
from chiffon.audit.repo import AuditRepo, FileLookup
from chiffon.bus import EventBus
from chiffon.db import SessionFactory, utcnow
from chiffon.executor import RunFinished
from chiffon.planner import PlanRecord

__all__ = [
    "AUTHOR",
    "AuditDetail",
    "AuditService",
    "EntryResolver",
    "PlanReader",
    "RunReader",
    "VerifyReport",
    "record_bytes",
    "record_path",
    "run_record",
]

log = logging.getLogger("chiffon.audit")

PAGE_SIZE = 50
MAX_FAILURES = 1000


class AuditService:
    def __init__(
        self,
        session_factory: SessionFactory,
        audit_dir: Path,
        bus: EventBus,
        executor: RunReader,
        plans: PlanReader | None = None,
        entries: EntryResolver | None = None,
    ) -> None:
        self._sessions = session_factory
        self._repo = AuditRepo(audit_dir)
        self._bus = bus
        self._executor = executor
        self._plans: PlanReader = plans or NoPlans()
        self._entries = entries
        self._runs_box = Outbox(session_factory, SUBJECT_RUN)
        self._plans_box = Outbox(session_factory, SUBJECT_PLAN)
        # One process moves HEAD at a time; dulwich's ref CAS guards against other processes.
        self._lock = asyncio.Lock()

    @property
    def audit_dir(self) -> Path:
        return self._repo.path

    # -- committing ----------------------------------------------------------------------------

    async def when_run_finished_commit(self, event: RunFinished) -> None:
        """Claim the run's audit record and commit it; a second claimant stops at the claim."""
        if await self._runs_box.claim(
            event.run_id, record_path(event.run_id), event.correlation_id
        ):
            await self._commit_run(event.run_id)

    async def when_plan_decided_commit(self, event: PlanDecided) -> None:
        """Commit the decided plan once its runs are committed (else the last run's
        ``RunAudited`` does it)."""
        await self._audit_plan(event.plan_id, take_over=False)

    async def when_run_audited_commit_its_plan(self, event: RunAudited) -> None:
        """A plan waiting for this run's commit is committed now."""
        plan_id = await self._plans.plan_of_run(event.run_id)
        if plan_id is not None:
            await self._audit_plan(plan_id, take_over=False)

    async def commit_pending(self) -> list[int]:
        """Start-up sweep: commit every finished run without an audit commit, then every
        decided plan without one.

        A claim without a sha is a crash's leftover at start-up and is taken over; a record
        with a sha the run lacks is published again. Returns the run ids handled (plans are
        logged); a subject that fails is logged and the sweep goes on.
        """
        run_ids = await self._executor.finished_runs_without_audit()
        records = await self._runs_box.records(run_ids)
        handled: list[int] = []
        for run_id in run_ids:
            try:
                if await self._resume_run(run_id, records.get(run_id)):
                    handled.append(run_id)
            except Exception:
                log.exception("audit commit of run %s failed; will retry at next start", run_id)
        for plan_id in await self._plans.decided_plans_without_audit():
            try:
                await self._audit_plan(plan_id, take_over=True)
            except Exception:
                log.exception("audit commit of plan %s failed; will retry at next start", plan_id)
        return handled

    async def _resume_run(self, run_id: int, record: AuditRecord | None) -> bool:
        if record is not None and record.commit_sha is not None:
            # Committed and recorded, but the crash came before the run stored the sha.
            await self._bus.publish(RunAudited(run_id, record.commit_sha, record.correlation_id))
            return True
        if record is None:
            run = await self._executor.get_run(run_id)
            if run is None or not await self._runs_box.claim(
                run_id, record_path(run_id), run.correlation_id
            ):
                return False
        elif not await self._runs_box.take_over(record):
            return False
        return await self._commit_run(run_id)

    async def _commit_run(self, run_id: int) -> bool:
        """Commit a claimed run's record, store the sha, publish ``RunAudited``.

        Returns False (and gives the claim back) when the run is missing or not finished.
        """
        run = await self._executor.get_run(run_id)
        if run is None or not run.status.is_finished:
            log.warning("run %s is not finished (or gone); not committing it to the audit", run_id)
            await self._runs_box.release(run_id)
            return False
        content = record_bytes(run_record(run))
        services = await service_names(self._entries, [f"{run.entry_kind}:{run.entry_name}"])
        sha = await self._commit(record_path(run_id), content, run_commit_message(run))
        index = run_index(run, services, await failure_of(run, self._executor))
        if not await self._runs_box.complete(run_id, sha, index):
            # A takeover elsewhere recorded its commit first; ours stays in history, unused.
            log.warning("run %s was recorded by another claimant; commit %s unused", run_id, sha)
            return False
        await self._bus.publish(RunAudited(run.id, sha, run.correlation_id))
        return True

    async def _audit_plan(self, plan_id: int, take_over: bool) -> bool:
        """Commit the decided plan's record unless the trail already holds exactly it.

        ``take_over``: a claim without a commit is a crash's leftover (the start-up sweep),
        not a claimant at work. Returns True when the plan's record is in the trail.
        """
        plan = await self._plans.find(plan_id)
        if plan is None or not plan.status.is_finished:
            return False
        content = await self._plan_content(plan)
        if content is None:
            return False
        path = plan_record_path(plan_id)
        record = await self._plans_box.record(plan_id)
        if record is not None and record.commit_sha is not None:
            committed = await asyncio.to_thread(self._repo.read_file, record.commit_sha, path)
            if committed == content:
                if plan.audit_commit != record.commit_sha:
                    await self._bus.publish(
                        PlanAudited(plan_id, record.commit_sha, plan.correlation_id)
                    )
                return True
            # Decided again (a failed step was re-run): a newer commit of the same file.
            if not await self._plans_box.reopen(record):
                return False
        elif record is not None:
            if not take_over or not await self._plans_box.take_over(record):
                return False
        elif not await self._plans_box.claim(plan_id, path, plan.correlation_id):
            return False
        sha = await self._commit(path, content, plan_commit_message(plan))
        refs = [s.entry_ref for s in plan.steps]
        index = plan_index(plan, await service_names(self._entries, refs))
        if not await self._plans_box.complete(plan_id, sha, index):
            log.warning("plan %s was recorded by another claimant; commit %s unused", plan_id, sha)
            return False
        await self._bus.publish(PlanAudited(plan_id, sha, plan.correlation_id))
        return True

    async def _plan_content(self, plan: PlanRecord) -> bytes | None:
        """The plan's record as committed; None while one of its runs has no audit commit."""
        commits = await self._run_commits(plan)
        waiting = [run_id for run_id, sha in commits.items() if sha is None]
        if waiting:
            log.info("plan %s waits for the audit commits of runs %s", plan.id, waiting)
            return None
        return await self._expected_plan(plan, commits=commits)

    async def _run_commits(self, plan: PlanRecord) -> dict[int, str | None]:
        """Each step run's audit commit, from the runs' own audit rows."""
        run_ids = [step.run_id for step in plan.steps if step.run_id is not None]
        rows = await self._runs_box.records(run_ids)
        return {run_id: rows[run_id].commit_sha if run_id in rows else None for run_id in run_ids}

    async def _commit(self, path: str, content: bytes, message: str) -> str:
        async with self._lock:
            return await asyncio.to_thread(self._repo.commit_file, path, content, message, AUTHOR)

    # -- reading -------------------------------------------------------------------------------

    async def search(self, wanted: AuditFilter) -> tuple[list[AuditEntry], bool]:
        """One page of the audit list, newest first, and whether there are more."""
        offset = (wanted.page - 1) * PAGE_SIZE
        async with self._sessions() as session:
            rows = list(await session.scalars(query(wanted, PAGE_SIZE + 1, offset)))
        return [entry_of(row) for row in rows[:PAGE_SIZE]], len(rows) > PAGE_SIZE

    async def failures(self, days: int) -> list[AuditEntry]:
        """Failed runs and failed plans committed in the last ``days`` days, newest first."""
        since = utcnow() - dt.timedelta(days=days)
        async with self._sessions() as session:
            rows = await session.scalars(
                query(AuditFilter(since=since, status="failed"), MAX_FAILURES, 0)
            )
            return [entry_of(row) for row in rows]

    async def run_detail(self, run_id: int) -> AuditDetail | None:
        """The run's audit (None when there is no such run)."""
        run = await self._executor.get_run(run_id)
        if run is None:
            return None
        if not run.status.is_finished:
            problems = [f"run {run_id}: it is {run.status}; a run is audited when it finishes"]
            return AuditDetail(SUBJECT_RUN, run_id, run.to_json(), None, None, problems)
        record = await self._runs_box.record(run_id)
        problems, content = await self._check_one(
            f"run {run_id}",
            run.audit_commit,
            record,
            f"no audit commit ({run.status} at {iso(run.finished_at)})",
            record_path(run_id),
            record_bytes(run_record(run)),
        )
        return AuditDetail(
            SUBJECT_RUN, run_id, run.to_json(), run.audit_commit, parsed(content), problems
        )

    async def plan_detail(self, plan_id: int) -> AuditDetail | None:
        """The plan's audit (None when there is no such plan)."""
        plan = await self._plans.find(plan_id)
        if plan is None:
            return None
        changes = await self._plans.changes(plan_id)
        db = {**plan.to_json(), "changes": [change.to_json() for change in changes]}
        if not plan.status.is_finished:
            problems = [f"plan {plan_id}: it is {plan.status}; a plan is audited when decided"]
            return AuditDetail(SUBJECT_PLAN, plan_id, db, None, None, problems)
        expected = await self._expected_plan(plan, changes)
        problems, content = await self._check_one(
            f"plan {plan_id}",
            plan.audit_commit,
            await self._plans_box.record(plan_id),
            f"no audit commit ({plan.status} at {iso(plan.finished_at)})",
            plan_record_path(plan_id),
            expected,
        )
        return AuditDetail(SUBJECT_PLAN, plan_id, db, plan.audit_commit, parsed(content), problems)

    async def _check_one(
        self,
        where: str,
        sha: str | None,
        record: AuditRecord | None,
        missing: str,
        path: str,
        expected: bytes,
    ) -> tuple[list[str], bytes | None]:
        wanted = [(sha, path)] if sha is not None else []
        history, lookups = await asyncio.to_thread(self._read_trail, wanted)
        lookup = lookups[0] if lookups else None
        record_sha = record.commit_sha if record is not None else None
        problems = commit_problems(where, sha, record_sha, missing, path, expected, history, lookup)
        return problems, lookup.content if lookup is not None else None

    async def _expected_plan(
        self,
        plan: PlanRecord,
        changes: list[ChangeView] | None = None,
        commits: dict[int, str | None] | None = None,
    ) -> bytes:
        """The plan's record rebuilt from the database."""
        if commits is None:
            commits = await self._run_commits(plan)
        if changes is None:
            changes = await self._plans.changes(plan.id)
        return record_bytes(plan_record(plan, changes, commits))

    # -- verify --------------------------------------------------------------------------------

    async def verify(self) -> VerifyReport:
        """Check every finished run and decided plan against the audit repo; one problem line
        per finding."""
        runs = await self._executor.finished_runs()
        plans = await self._plans.decided_plans()
        run_records = await self._runs_box.records([run.id for run in runs])
        plan_records = await self._plans_box.records([plan.id for plan in plans])
        wanted_runs = [(run.id, run.audit_commit) for run in runs if run.audit_commit]
        wanted_plans = [(plan.id, plan.audit_commit) for plan in plans if plan.audit_commit]
        history, lookups = await asyncio.to_thread(
            self._read_trail,
            [(sha, record_path(i)) for i, sha in wanted_runs]
            + [(sha, plan_record_path(i)) for i, sha in wanted_plans],
        )
        run_lookups = dict(
            zip([i for i, _ in wanted_runs], lookups[: len(wanted_runs)], strict=True)
        )
        plan_lookups = dict(
            zip([i for i, _ in wanted_plans], lookups[len(wanted_runs) :], strict=True)
        )
        problems: list[str] = []
        for run in sorted(runs, key=lambda run: run.id):
            record = run_records.get(run.id)
            problems.extend(
                commit_problems(
                    f"run {run.id}",
                    run.audit_commit,
                    record.commit_sha if record is not None else None,
                    f"no audit commit ({run.status} at {iso(run.finished_at)})",
                    record_path(run.id),
                    record_bytes(run_record(run)),
                    history,
                    run_lookups.get(run.id),
                )
            )
        for plan in sorted(plans, key=lambda plan: plan.id):
            record = plan_records.get(plan.id)
            problems.extend(
                commit_problems(
                    f"plan {plan.id}",
                    plan.audit_commit,
                    record.commit_sha if record is not None else None,
                    f"no audit commit ({plan.status} at {iso(plan.finished_at)})",
                    plan_record_path(plan.id),
                    await self._expected_plan(plan),
                    history,
                    plan_lookups.get(plan.id),
                )
            )
        return VerifyReport(
            checked=len(runs) + len(plans), problems=problems, plans_checked=len(plans)
        )

    def _read_trail(self, wanted: list[tuple[str, str]]) -> tuple[set[str], list[FileLookup]]:
        return self._repo.history(), self._repo.read_files(wanted)
