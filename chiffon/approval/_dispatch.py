"""Running plans: an approved plan's steps in dependency order, and check-mode previews.

One asyncio task per plan in this process. Every step's state is written before the next
starts, so a restart resumes from the database (``resume``): a step that was running waits
for its run (which the executor's recovery marked interrupted), pending steps go on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from chiffon.approval._preview import step_preview
from chiffon.approval.events import PlanDecided
from chiffon.bus import EventBus
from chiffon.db import utcnow
from chiffon.executor import ExecutorService, RunRequest, RunRequestError, RunStatus
from chiffon.planner import PlanRecord, PlanStatus, PlanStore, StepRecord, StepState
from chiffon.router import Needs

log = logging.getLogger("chiffon.approval")

Record = Callable[[int, str, str, dict[str, Any]], Awaitable[None]]
Changed = Callable[[int, str], Awaitable[None]]

_BLOCKING = (StepState.FAILED, StepState.SKIPPED, StepState.CANCELLED)
_STEP_OF_RUN = {
    RunStatus.SUCCEEDED: StepState.SUCCEEDED,
    RunStatus.CANCELLED: StepState.CANCELLED,
}


class Dispatcher:
    def __init__(
        self,
        plans: PlanStore,
        executor: ExecutorService,
        bus: EventBus,
        record: Record,
        changed: Changed,
    ) -> None:
        self._plans = plans
        self._executor = executor
        self._bus = bus
        self._record = record
        self._changed = changed
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._cancelled: set[int] = set()

    async def start(self, plan_id: int, by: str) -> None:
        """Run the plan's pending steps in a task of its own (once per plan at a time)."""
        if plan_id in self._tasks:
            return
        self._cancelled.discard(plan_id)
        self._spawn(plan_id, self._run_plan(plan_id, by))

    async def start_preview(self, plan: PlanRecord, by: str) -> None:
        if plan.id in self._tasks:
            return
        await self._plans.update(plan.id, preview={"status": "running", "by": by, "steps": []})
        await self._changed(plan.id, plan.correlation_id)
        self._spawn(plan.id, self._preview(plan, by))

    async def cancel(self, plan: PlanRecord) -> None:
        self._cancelled.add(plan.id)
        dispatching = plan.id in self._tasks
        running = [s for s in plan.steps if s.state is StepState.RUNNING and s.run_id]
        for step in running:
            assert step.run_id is not None
            await self._executor.cancel_run(step.run_id)
        if not dispatching:  # approved but not started here: finish it now
            await self._finish(plan.id)

    async def resume(self) -> None:
        for plan_id in await self._plans.active_plan_ids():
            plan = await self._plans.get(plan_id)
            if plan is not None:
                await self.start(plan_id, plan.decided_by or "chiffon")

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, plan_id: int, work: Awaitable[None]) -> None:
        async def guarded() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("plan %s: dispatch failed", plan_id)
                await self._plans.update(
                    plan_id,
                    status=str(PlanStatus.FAILED),
                    error="Chiffon failed while running this plan; see the service log.",
                    finished_at=utcnow(),
                )

        task = asyncio.create_task(guarded())
        self._tasks[plan_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(plan_id, None))

    # -- an approved plan --------------------------------------------------------------------

    async def _run_plan(self, plan_id: int, by: str) -> None:
        plan = await self._plans.get(plan_id)
        if plan is None:
            return
        if plan.status is PlanStatus.APPROVED:
            await self._plans.transition(
                plan.id, plan.version, [PlanStatus.APPROVED], PlanStatus.RUNNING
            )
            await self._changed(plan.id, plan.correlation_id)
        states = {step.position: step.state for step in plan.steps}
        for step in plan.steps:
            if states[step.position].is_finished:
                continue
            blocked = [d + 1 for d in step.depends_on if states.get(d) in _BLOCKING]
            if plan_id in self._cancelled or blocked:
                states[step.position] = StepState.SKIPPED
                await self._plans.update_step(plan.id, step.position, state=str(StepState.SKIPPED))
                await self._changed(plan.id, plan.correlation_id)
                continue
            states[step.position] = await self._run_step(plan, step, by)
        await self._finish(plan_id)

    async def _run_step(self, plan: PlanRecord, step: StepRecord, by: str) -> StepState:
        run_id = step.run_id if step.state is StepState.RUNNING else None
        if run_id is None:
            try:
                run = await self._executor.start_run(self._request(plan, step, by, check=False))
            except RunRequestError as refused:
                await self._plans.update_step(plan.id, step.position, state=str(StepState.FAILED))
                await self._plans.update(plan.id, error=f"step {step.position + 1}: {refused}")
                await self._changed(plan.id, plan.correlation_id)
                return StepState.FAILED
            run_id = run.id
            await self._plans.update_step(
                plan.id, step.position, state=str(StepState.RUNNING), run_id=run_id
            )
            await self._changed(plan.id, plan.correlation_id)
        finished = await self._executor.wait_for(run_id)
        state = _STEP_OF_RUN.get(finished.status, StepState.FAILED)
        if plan.id in self._cancelled and state is not StepState.SUCCEEDED:
            state = StepState.CANCELLED
        await self._plans.update_step(plan.id, step.position, state=str(state))
        await self._changed(plan.id, plan.correlation_id)
        return state

    async def _finish(self, plan_id: int) -> None:
        plan = await self._plans.get(plan_id)
        if plan is None or plan.status.is_finished:
            return
        cancelled = plan_id in self._cancelled
        self._cancelled.discard(plan_id)
        if cancelled:
            for step in plan.steps:
                if not step.state.is_finished:
                    await self._plans.update_step(
                        plan_id, step.position, state=str(StepState.SKIPPED)
                    )
            status = PlanStatus.CANCELLED
        elif all(step.state is StepState.SUCCEEDED for step in plan.steps):
            status = PlanStatus.SUCCEEDED
        else:
            status = PlanStatus.FAILED
        error = plan.error
        if status is PlanStatus.FAILED and error is None:
            failed = [str(s.position + 1) for s in plan.steps if s.state is StepState.FAILED]
            error = f"step {', '.join(failed)} failed" if failed else "a step did not finish"
        await self._plans.update(plan_id, status=str(status), error=error, finished_at=utcnow())
        await self._changed(plan_id, plan.correlation_id)
        await self._bus.publish(PlanDecided(plan_id, str(status), plan.correlation_id))

    # -- a preview ---------------------------------------------------------------------------

    async def _preview(self, plan: PlanRecord, by: str) -> None:
        summaries: list[dict[str, Any]] = []
        for step in plan.steps:
            try:
                run = await self._executor.start_run(self._request(plan, step, by, check=True))
            except RunRequestError as refused:
                summaries.append(
                    {"position": step.position, "status": "refused", "error": str(refused)}
                )
                continue
            await self._plans.update_step(plan.id, step.position, preview_run_id=run.id)
            await self._plans.update(
                plan.id, preview={"status": "running", "by": by, "steps": summaries}
            )
            await self._changed(plan.id, plan.correlation_id)
            finished = await self._executor.wait_for(run.id)
            events = await self._executor.list_events(run.id, limit=100_000)
            summaries.append(step_preview(step.position, finished, events))
        preview = {"status": "done", "by": by, "at": utcnow().isoformat(), "steps": summaries}
        await self._plans.update(plan.id, preview=preview)
        await self._changed(plan.id, plan.correlation_id)

    @staticmethod
    def _request(plan: PlanRecord, step: StepRecord, by: str, check: bool) -> RunRequest:
        """The step's run: on its placement (a person's override first, else the router's
        pick), whose capacity the executor checks again before it starts. A check-mode
        preview goes to the same host but waits for no capacity (it uses none)."""
        assert step.entry_ref is not None
        limit = step.target
        needs: Needs | None = None
        hosts: tuple[str, ...] = ()
        placement = step.placement
        if placement is not None:
            limit = placement.limit or step.target
            if not check:
                needs, hosts = Needs.from_mapping(placement.needs), placement.run_hosts
        return RunRequest(
            entry=step.entry_ref,
            limit=limit,
            extra_vars=dict(step.vars),
            check=check,
            requested_by=by,
            correlation_id=plan.correlation_id,
            needs=needs,
            hosts=hosts,
        )
