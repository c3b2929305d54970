"""Plans in the database: written once as proposed, then changed only by compare-and-swap."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chiffon.db import SessionFactory
from chiffon.planner._placement import StepPlacement
from chiffon.planner._plan import Plan, PlanStatus, RiskLevel, StepState, StepStatus
from chiffon.planner._records import PlanRecord, SavedDraft, StepRecord
from chiffon.planner._saved_drafts import saved_drafts_of
from chiffon.planner.models import PlanRow, PlanStepRow


class PlanStore:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def add(
        self,
        plan: Plan,
        requester: str,
        correlation_id: str,
        estimates: Sequence[float | None],
    ) -> PlanRecord:
        """Store ``plan`` as proposed; ``estimates`` holds each step's expected seconds."""
        known = [e for e in estimates if e is not None]
        row = PlanRow(
            correlation_id=correlation_id,
            request=plan.request,
            requester=requester,
            status=str(plan.status),
            planner=plan.planner,
            risk_level=str(plan.risk.level),
            risk_reasons=list(plan.risk.reasons),
            estimated_s=sum(known) if known and len(known) == len(estimates) else None,
            proposed=plan.to_json(),
        )
        async with self._sessions() as session, session.begin():
            session.add(row)
            await session.flush()
            for position, (step, estimate) in enumerate(zip(plan.steps, estimates, strict=True)):
                as_json = step.to_json()
                session.add(
                    PlanStepRow(
                        plan_id=row.id,
                        position=position,
                        clause=step.clause,
                        match=str(step.status),
                        entry=as_json["entry"],
                        entry_hash=step.entry.content_hash if step.entry else None,
                        confidence=step.confidence,
                        candidates=as_json["candidates"],
                        vars=step.vars,
                        target=step.target,
                        depends_on=list(step.depends_on),
                        estimated_s=estimate,
                        state=str(StepState.PENDING),
                        placement=as_json["placement"],
                    )
                )
        found = await self.get(row.id)
        assert found is not None
        return found

    async def get(self, plan_id: int) -> PlanRecord | None:
        async with self._sessions() as session:
            row = await session.get(PlanRow, plan_id)
            if row is None:
                return None
            saved = await saved_drafts_of(session, [plan_id])
            return record_of(row, await _steps(session, plan_id), saved.get(plan_id, ()))

    async def recent(
        self, limit: int = 50, requester: str | None = None, status: str | None = None
    ) -> list[PlanRecord]:
        """The newest plans first (steps included), optionally one person's or one status'."""
        query = select(PlanRow).order_by(PlanRow.id.desc()).limit(limit)
        if requester:
            query = query.where(PlanRow.requester == requester)
        if status:
            query = query.where(PlanRow.status == status)
        async with self._sessions() as session:
            rows = list((await session.scalars(query)).all())
            ids = [row.id for row in rows]
            steps: dict[int, list[PlanStepRow]] = {i: [] for i in ids}
            if ids:
                found = await session.scalars(
                    select(PlanStepRow)
                    .where(PlanStepRow.plan_id.in_(ids))
                    .order_by(PlanStepRow.plan_id, PlanStepRow.position)
                )
                for step in found:
                    steps[step.plan_id].append(step)
            saved = await saved_drafts_of(session, ids)
            return [record_of(row, steps[row.id], saved.get(row.id, ())) for row in rows]

    async def transition(
        self,
        plan_id: int,
        version: int,
        allowed: Sequence[PlanStatus],
        to: PlanStatus,
        **values: Any,
    ) -> bool:
        """Move the plan to ``to`` (and set ``values``) only if it is still at ``version`` and
        in one of ``allowed``. Returns False when someone else changed it first."""
        async with self._sessions() as session, session.begin():
            done = await _swap(session, plan_id, version, allowed, status=str(to), **values)
        return done

    async def replace_steps(
        self, plan_id: int, version: int, steps: Sequence[StepRecord], **values: Any
    ) -> bool:
        """Swap the plan's steps for ``steps`` (renumbered in order) if still at ``version``
        and awaiting a decision. Returns False when someone else changed it first."""
        async with self._sessions() as session, session.begin():
            if not await _swap(session, plan_id, version, [PlanStatus.PENDING_APPROVAL], **values):
                return False
            await session.execute(delete(PlanStepRow).where(PlanStepRow.plan_id == plan_id))
            for position, step in enumerate(steps):
                session.add(
                    PlanStepRow(
                        plan_id=plan_id,
                        position=position,
                        clause=step.clause,
                        match=str(step.match),
                        entry=step.entry,
                        entry_hash=step.entry_hash,
                        confidence=step.confidence,
                        candidates=step.candidates,
                        vars=step.vars,
                        target=step.target,
                        depends_on=step.depends_on,
                        estimated_s=step.estimated_s,
                        state=str(StepState.PENDING),
                        placement=step.placement.to_json() if step.placement else None,
                    )
                )
        return True

    async def update_step(self, plan_id: int, position: int, **values: Any) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(PlanStepRow)
                .where(PlanStepRow.plan_id == plan_id, PlanStepRow.position == position)
                .values(**values)
            )

    async def update(self, plan_id: int, **values: Any) -> None:
        """Set ``values`` on the plan row unconditionally (run-time bookkeeping)."""
        async with self._sessions() as session, session.begin():
            await session.execute(update(PlanRow).where(PlanRow.id == plan_id).values(**values))

    async def plan_of_run(self, run_id: int) -> tuple[int, int] | None:
        """(plan id, step position) of the step that ``run_id`` carries out, if any."""
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(PlanStepRow.plan_id, PlanStepRow.position).where(
                        PlanStepRow.run_id == run_id
                    )
                )
            ).first()
        return (found[0], found[1]) if found else None

    async def decided(self, without_audit: bool = False) -> list[PlanRecord]:
        """Plans that reached an end (rejected, succeeded, failed, cancelled), oldest first;
        with ``without_audit`` only those without an audit commit."""
        finished = [str(s) for s in PlanStatus if s.is_finished]
        query = select(PlanRow).where(PlanRow.status.in_(finished)).order_by(PlanRow.id)
        if without_audit:
            query = query.where(PlanRow.audit_commit.is_(None))
        async with self._sessions() as session:
            rows = list((await session.scalars(query)).all())
            steps: dict[int, list[PlanStepRow]] = {row.id: [] for row in rows}
            for start in range(0, len(rows), 500):  # under every backend's parameter limit
                found = await session.scalars(
                    select(PlanStepRow)
                    .where(PlanStepRow.plan_id.in_([row.id for row in rows[start : start + 500]]))
                    .order_by(PlanStepRow.plan_id, PlanStepRow.position)
                )
                for step in found:
                    steps[step.plan_id].append(step)
            return [record_of(row, steps[row.id]) for row in rows]

    async def set_audit_commit(self, plan_id: int, commit_sha: str) -> None:
        """Store the plan's audit commit, unless it is running again (a re-run step) by now."""
        finished = [str(s) for s in PlanStatus if s.is_finished]
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(PlanRow)
                .where(PlanRow.id == plan_id, PlanRow.status.in_(finished))
                .values(audit_commit=commit_sha)
            )

    async def active_plan_ids(self) -> list[int]:
        """Plans approved or running (what a restart must pick up)."""
        async with self._sessions() as session:
            found = await session.scalars(
                select(PlanRow.id).where(
                    PlanRow.status.in_([str(PlanStatus.APPROVED), str(PlanStatus.RUNNING)])
                )
            )
            return list(found.all())


async def _swap(
    session: AsyncSession,
    plan_id: int,
    version: int,
    allowed: Sequence[PlanStatus],
    **values: Any,
) -> bool:
    result = await session.execute(
        update(PlanRow)
        .where(
            PlanRow.id == plan_id,
            PlanRow.version == version,
            PlanRow.status.in_([str(s) for s in allowed]),
        )
        .values(version=PlanRow.version + 1, **values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def _steps(session: AsyncSession, plan_id: int) -> list[PlanStepRow]:
    found = await session.scalars(
        select(PlanStepRow).where(PlanStepRow.plan_id == plan_id).order_by(PlanStepRow.position)
    )
    return list(found.all())


def record_of(
    row: PlanRow, steps: Sequence[PlanStepRow], saved_drafts: Sequence[SavedDraft] = ()
) -> PlanRecord:
    return PlanRecord(
        id=row.id,
        correlation_id=row.correlation_id,
        request=row.request,
        requester=row.requester,
        status=PlanStatus(row.status),
        planner=row.planner,
        risk_level=RiskLevel(row.risk_level),
        risk_reasons=list(row.risk_reasons),
        estimated_s=row.estimated_s,
        version=row.version,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        reason=row.reason,
        preview=row.preview,
        error=row.error,
        audit_commit=row.audit_commit,
        created_at=row.created_at,
        finished_at=row.finished_at,
        proposed=row.proposed,
        saved_drafts=tuple(saved_drafts),
        steps=tuple(
            StepRecord(
                position=s.position,
                clause=s.clause,
                match=StepStatus(s.match),
                entry=s.entry,
                entry_hash=s.entry_hash,
                confidence=s.confidence,
                candidates=list(s.candidates),
                vars=dict(s.vars),
                target=s.target,
                depends_on=list(s.depends_on),
                estimated_s=s.estimated_s,
                state=StepState(s.state),
                run_id=s.run_id,
                preview_run_id=s.preview_run_id,
                placement=StepPlacement.from_json(s.placement) if s.placement else None,
            )
            for s in steps
        ),
    )
