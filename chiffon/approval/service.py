"""ApprovalService: a person's decisions on a stored plan, each recorded and compare-and-swapped.

Approve, reject, modify and re-validate change the plan only if it is still the version the
person saw (``version``; the newest when not given) and still awaiting a decision, so two
people deciding at once cannot both win. Running the approved plan is the dispatcher's job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select

from chiffon.approval._dispatch import Dispatcher
from chiffon.approval._errors import InvalidChange, NotAllowed, PlanConflict, PlanNotFound
from chiffon.approval._placing import changed_placements, place_again
from chiffon.approval._vars import InvalidVariable, check_vars
from chiffon.approval.events import PlanApproved, PlanChanged, PlanDecided
from chiffon.approval.models import PlanChange
from chiffon.bus import EventBus
from chiffon.catalog import CatalogError, CatalogService, Entry
from chiffon.db import SessionFactory, utcnow
from chiffon.executor import ExecutorService
from chiffon.planner import PlanRecord, PlanStatus, PlanStore, StepPlacer, StepRecord, StepState

MAX_REASON_CHARS = 2_000


@dataclass(frozen=True)
class Modification:
    """A person's edit of a plan awaiting approval. ``order`` lists the steps to keep by their
    current position, in the new order (None: keep all as they are); ``vars``, ``targets`` and
    ``placements`` are keyed by current position; a target of None or "" clears the limit; a
    placement (a host of the step's target, or a limit within it) overrides the router's
    pick, and None or "" goes back to it."""

    order: list[int] | None = None
    vars: dict[int, dict[str, Any]] = field(default_factory=dict)
    targets: dict[int, str | None] = field(default_factory=dict)
    placements: dict[int, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class ChangeView:
    by: str
    action: str
    detail: dict[str, Any]
    at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        return {"by": self.by, "action": self.action, "detail": self.detail, "at": self.at}


class ApprovalService:
    def __init__(
        self,
        sessions: SessionFactory,
        bus: EventBus,
        plans: PlanStore,
        catalog: CatalogService,
        executor: ExecutorService,
        require_second_approver: bool = False,
        placer: StepPlacer | None = None,
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self._plans = plans
        self._catalog = catalog
        self._require_second = require_second_approver
        self._placer = placer
        self.dispatcher = Dispatcher(plans, executor, bus, self._record, self._changed)

    # -- reading ----------------------------------------------------------------------------

    async def get(self, plan_id: int) -> PlanRecord:
        """The plan; raises ``PlanNotFound``."""
        plan = await self._plans.get(plan_id)
        if plan is None:
            raise PlanNotFound(f"there is no plan {plan_id}")
        return plan

    async def find(self, plan_id: int) -> PlanRecord | None:
        """The plan, or None when there is none with this id."""
        return await self._plans.get(plan_id)

    async def recent(self, limit: int = 50) -> list[PlanRecord]:
        """The newest plans first."""
        return await self._plans.recent(limit)

    async def changes(self, plan_id: int) -> list[ChangeView]:
        """Every decision and modification of the plan, oldest first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(PlanChange).where(PlanChange.plan_id == plan_id).order_by(PlanChange.id)
            )
            return [ChangeView(r.by, r.action, r.detail, r.at) for r in rows]

    async def plan_of_run(self, run_id: int) -> int | None:
        """The plan whose step ``run_id`` carries out (not a preview run), if any."""
        found = await self._plans.plan_of_run(run_id)
        return found[0] if found else None

    async def decided_plans(self) -> list[PlanRecord]:
        """Plans that reached an end (what the audit trail holds), oldest first."""
        return await self._plans.decided()

    async def decided_plans_without_audit(self) -> list[int]:
        """Ids of plans that reached an end but have no audit commit yet."""
        return [plan.id for plan in await self._plans.decided(without_audit=True)]

    async def set_audit_commit(self, plan_id: int, commit_sha: str) -> None:
        await self._plans.set_audit_commit(plan_id, commit_sha)

    async def resolve_steps(self, plan: PlanRecord) -> dict[str, Entry | None]:
        """Each step's catalog entry as it is now, by entry ref (None: no longer there);
        every distinct ref resolved once."""
        refs = {step.entry_ref for step in plan.steps if step.entry_ref is not None}
        return await self._catalog.resolve_each(refs) if refs else {}

    async def stale_steps(
        self, plan: PlanRecord, resolved: Mapping[str, Entry | None] | None = None
    ) -> list[str]:
        """One line per step whose catalog entry changed (or vanished) since it was planned;
        ``resolved`` (from ``resolve_steps``) spares resolving the entries again."""
        if resolved is None:
            resolved = await self.resolve_steps(plan)
        found: list[str] = []
        for step in plan.steps:
            ref = step.entry_ref
            if ref is None:
                continue
            entry = resolved.get(ref)
            if entry is None:
                found.append(f"step {step.position + 1}: {ref} is no longer in the playbook repo")
                continue
            if entry.content_hash != step.entry_hash:
                found.append(f"step {step.position + 1}: {entry.name} changed since planning")
        return found

    # -- deciding ---------------------------------------------------------------------------

    async def approve(self, plan_id: int, by: str, version: int | None = None) -> PlanRecord:
        """Approve the plan and start running it. Raises ``PlanConflict`` when it is not
        awaiting approval, has a step without an entry, or is stale; ``NotAllowed`` when a
        second person must approve."""
        plan = await self._open(plan_id, version, "approve")
        if not plan.runnable:
            missing = [str(s.position + 1) for s in plan.steps if s.entry is None]
            raise PlanConflict(
                "this plan cannot be approved: step(s) "
                f"{', '.join(missing) or '(none)'} have no playbook. Remove them (modify) or "
                "save a generated draft and ask again."
            )
        if self._require_second and by == plan.requester:
            raise NotAllowed(
                "a second person must approve: you asked for this plan, so someone else has "
                "to approve it (CHIFFON_REQUIRE_SECOND_APPROVER is on)"
            )
        stale = await self.stale_steps(plan)
        if stale:
            raise PlanConflict(
                "the playbook repo changed since this plan was made ("
                + "; ".join(stale)
                + "). Re-validate the plan, check it, then approve."
            )
        now = utcnow()
        if not await self._plans.transition(
            plan.id,
            plan.version,
            [PlanStatus.PENDING_APPROVAL],
            PlanStatus.APPROVED,
            decided_by=by,
            decided_at=now,
        ):
            raise await self._lost_race(plan_id, "approve")
        await self._record(plan.id, by, "approved", {})
        await self._bus.publish(PlanApproved(plan.id, plan.correlation_id, by))
        await self._changed(plan.id, plan.correlation_id)
        return await self.get(plan.id)

    async def reject(
        self, plan_id: int, by: str, reason: str, version: int | None = None
    ) -> PlanRecord:
        """Reject the plan with ``reason`` (required). Raises ``InvalidChange`` without a
        reason, ``PlanConflict`` when it is not awaiting a decision."""
        reason = reason.strip()
        if not reason:
            raise InvalidChange("say why the plan is rejected (a reason is required)")
        if len(reason) > MAX_REASON_CHARS:
            raise InvalidChange(f"the reason is too long: at most {MAX_REASON_CHARS} characters")
        plan = await self._open(plan_id, version, "reject")
        now = utcnow()
        if not await self._plans.transition(
            plan.id,
            plan.version,
            [PlanStatus.PENDING_APPROVAL],
            PlanStatus.REJECTED,
            decided_by=by,
            decided_at=now,
            reason=reason,
            finished_at=now,
        ):
            raise await self._lost_race(plan_id, "reject")
        await self._record(plan.id, by, "rejected", {"reason": reason})
        await self._changed(plan.id, plan.correlation_id)
        await self._bus.publish(PlanDecided(plan.id, str(PlanStatus.REJECTED), plan.correlation_id))
        return await self.get(plan.id)

    async def modify(
        self, plan_id: int, by: str, change: Modification, version: int | None = None
    ) -> PlanRecord:
        """Apply ``change`` (validated against the entries' declared variables), re-validate
        the entries, clear any preview. Raises ``InvalidChange`` or ``PlanConflict``."""
        plan = await self._open(plan_id, version, "modify")
        dropped: dict[str, str] = {}
        steps = await self._modified_steps(plan, change, by, dropped)
        detail = _describe(plan, change)
        if dropped:
            detail["placements_dropped"] = dropped
        if not await self._plans.replace_steps(plan.id, plan.version, steps, preview=None):
            raise await self._lost_race(plan_id, "modify")
        await self._record(plan.id, by, "modified", detail)
        await self._changed(plan.id, plan.correlation_id)
        return await self.get(plan.id)

    async def revalidate(self, plan_id: int, by: str, version: int | None = None) -> PlanRecord:
        """Take the catalog's current version of every step's entry (after a person checked
        what changed): variables the entry no longer declares are refused."""
        plan = await self._open(plan_id, version, "re-validate")
        dropped: dict[str, str] = {}
        steps = await self._modified_steps(plan, Modification(), by, dropped)
        if not await self._plans.replace_steps(plan.id, plan.version, steps, preview=None):
            raise await self._lost_race(plan_id, "re-validate")
        await self._record(
            plan.id, by, "revalidated", {"placements_dropped": dropped} if dropped else {}
        )
        await self._changed(plan.id, plan.correlation_id)
        return await self.get(plan.id)

    # -- running ----------------------------------------------------------------------------

    async def preview(self, plan_id: int, by: str) -> PlanRecord:
        """Start a check-mode (``--check --diff``) run of every step; the summary lands on
        the plan as each step finishes. Raises ``PlanConflict`` if not awaiting approval."""
        plan = await self._open(plan_id, None, "preview")
        if not plan.runnable:
            raise PlanConflict("remove the steps without a playbook before previewing")
        await self._record(plan.id, by, "previewed", {})
        await self.dispatcher.start_preview(plan, by)
        return await self.get(plan.id)

    async def cancel(self, plan_id: int, by: str) -> PlanRecord:
        """Cancel an approved or running plan: its running step is cancelled, the rest skipped.
        Raises ``PlanConflict`` when the plan is not running."""
        plan = await self.get(plan_id)
        if plan.status not in (PlanStatus.APPROVED, PlanStatus.RUNNING):
            raise PlanConflict(f"plan {plan_id} is {plan.status}; only a running plan is cancelled")
        await self._record(plan.id, by, "cancelled", {})
        await self.dispatcher.cancel(plan)
        return await self.get(plan.id)

    async def retry_step(self, plan_id: int, position: int, by: str) -> PlanRecord:
        """Run a failed plan's failed step again (after a fix), then the steps it stopped."""
        plan = await self.get(plan_id)
        if plan.status is not PlanStatus.FAILED:
            raise PlanConflict(
                f"plan {plan_id} is {plan.status}; only a failed plan's step is re-run"
            )
        if not 0 <= position < len(plan.steps):
            raise InvalidChange(f"plan {plan_id} has no step {position + 1}")
        step = plan.steps[position]
        if step.state is not StepState.FAILED:
            raise PlanConflict(f"step {position + 1} is {step.state}; only a failed step is re-run")
        stale = await self.stale_steps(plan)
        if not await self._plans.transition(
            plan.id,
            plan.version,
            [PlanStatus.FAILED],
            PlanStatus.RUNNING,
            finished_at=None,
            error=None,
            audit_commit=None,  # decided again later, it gets a newer audit commit
        ):
            raise await self._lost_race(plan_id, "re-run")
        await self._record(plan.id, by, "retried", {"step": position + 1, "changed": stale})
        for other in plan.steps:
            if other.position == position or other.state in (
                StepState.SKIPPED,
                StepState.FAILED,
                StepState.CANCELLED,
            ):
                await self._plans.update_step(plan.id, other.position, state=str(StepState.PENDING))
        await self.dispatcher.start(plan.id, by)
        return await self.get(plan.id)

    async def resume(self) -> None:
        """At start-up: carry on with plans that were approved or running when Chiffon stopped."""
        await self.dispatcher.resume()

    async def stop(self) -> None:
        await self.dispatcher.stop()

    async def when_plan_approved_dispatch(self, event: PlanApproved) -> None:
        await self.dispatcher.start(event.plan_id, event.approved_by)

    # -- helpers ----------------------------------------------------------------------------

    async def _open(self, plan_id: int, version: int | None, verb: str) -> PlanRecord:
        plan = await self.get(plan_id)
        if not plan.status.is_open:
            who = f" by {plan.decided_by}" if plan.decided_by else ""
            raise PlanConflict(f"cannot {verb} plan {plan_id}: it is already {plan.status}{who}")
        if version is not None and version != plan.version:
            raise PlanConflict(
                f"plan {plan_id} changed since you loaded it (version {version}, now "
                f"{plan.version}); reload it and check it again"
            )
        return plan

    async def _lost_race(self, plan_id: int, verb: str) -> PlanConflict:
        plan = await self.get(plan_id)
        who = f" by {plan.decided_by}" if plan.decided_by else ""
        return PlanConflict(
            f"cannot {verb} plan {plan_id}: someone else changed it first (it is now "
            f"{plan.status}{who}); reload it"
        )

    async def _modified_steps(
        self, plan: PlanRecord, change: Modification, by: str, dropped: dict[str, str]
    ) -> list[StepRecord]:
        """The plan's steps after ``change``, each placed again; a person's override that no
        longer fits its step's target is left out and noted in ``dropped``."""
        positions = list(range(len(plan.steps)))
        order = positions if change.order is None else list(change.order)
        edited = [*order, *change.vars, *change.targets, *change.placements]
        unknown = sorted({p for p in edited if p not in positions})
        if unknown:
            raise InvalidChange(
                f"plan {plan.id} has no step {', '.join(str(p + 1) for p in unknown)}"
            )
        if len(set(order)) != len(order):
            raise InvalidChange("a step is listed twice in the new order")
        if not order:
            raise InvalidChange("a plan needs at least one step; reject it instead")
        renumber = {old: new for new, old in enumerate(order)}
        steps: list[StepRecord] = []
        for old in order:
            step = plan.steps[old]
            values = dict(step.vars)
            if old in change.vars:
                values = change.vars[old]
            entry_hash = step.entry_hash
            entry: Entry | None = None
            if step.entry_ref is not None:
                try:
                    entry = await self._catalog.resolve(step.entry_ref)
                except CatalogError as gone:
                    raise InvalidChange(f"step {old + 1}: {gone}") from None
                try:
                    values = check_vars(entry, values)
                except InvalidVariable as bad:
                    raise InvalidChange(f"step {old + 1}: {bad}") from None
                entry_hash = entry.content_hash
            target = step.target
            if old in change.targets:
                target = (change.targets[old] or "").strip() or None
            placement = step.placement
            if entry is not None and self._placer is not None:
                placement = await place_again(
                    self._placer, step, entry, target, change.placements, by, dropped
                )
            elif (change.placements.get(old) or "").strip():
                raise InvalidChange(f"step {old + 1} has no placement to override")
            steps.append(
                replace(
                    step,
                    vars=values,
                    target=target,
                    entry_hash=entry_hash,
                    placement=placement,
                    # A dependency on a removed step is gone; the order is the person's.
                    depends_on=sorted(
                        renumber[d]
                        for d in step.depends_on
                        if d in renumber and renumber[d] < renumber[old]
                    ),
                )
            )
        return steps

    async def _record(self, plan_id: int, by: str, action: str, detail: dict[str, Any]) -> None:
        async with self._sessions() as session, session.begin():
            session.add(PlanChange(plan_id=plan_id, by=by, action=action, detail=detail))

    async def _changed(self, plan_id: int, correlation_id: str) -> None:
        await self._bus.publish(PlanChanged(plan_id, correlation_id))


def _describe(plan: PlanRecord, change: Modification) -> dict[str, Any]:
    """What a modification changed, in the plan's own step numbers (1-based)."""
    detail: dict[str, Any] = {}
    if change.order is not None and change.order != list(range(len(plan.steps))):
        detail["order"] = [p + 1 for p in change.order]
        removed = sorted(set(range(len(plan.steps))) - set(change.order))
        if removed:
            detail["removed"] = [p + 1 for p in removed]
    edited = {
        str(p + 1): values for p, values in change.vars.items() if values != plan.steps[p].vars
    }
    if edited:
        detail["vars"] = edited
    targets = {
        str(p + 1): value for p, value in change.targets.items() if value != plan.steps[p].target
    }
    if targets:
        detail["targets"] = targets
    placements = changed_placements(plan, change.placements)
    if placements:
        detail["placements"] = placements
    return detail


__all__: Sequence[str] = ["ApprovalService", "ChangeView", "Modification"]
