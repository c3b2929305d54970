"""A failed plan's post-mortem: its steps with their runs, and the diagnosis of each step whose
run failed (with the suggestions for its entry)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from chiffon.executor import RunStatus, RunView
from chiffon.planner import PlanRecord, PlanStatus, StepRecord, StepState

from ._types import AnalyzerError, Diagnosed

__all__ = ["PlanPostmortem", "PlanReader", "StepPostmortem", "plan_postmortem"]


class PlanReader(Protocol):
    """What the analyzer reads about plans (the approval service satisfies this)."""

    async def find(self, plan_id: int) -> PlanRecord | None: ...


class NoPlans:
    """A plan reader with no plans (an analyzer built without the approval module)."""

    async def find(self, plan_id: int) -> PlanRecord | None:
        return None


@dataclass(frozen=True)
class StepPostmortem:
    """One step of the plan: its run (None when it never started) and, when that run failed,
    its diagnosis; ``problem`` says why a failed step has no diagnosis."""

    step: StepRecord
    run: RunView | None
    diagnosed: Diagnosed | None
    problem: str | None = None

    @property
    def failed(self) -> bool:
        return self.step.state is StepState.FAILED

    @property
    def duration_s(self) -> float | None:
        return self.run.duration_s if self.run else None

    def to_json(self) -> dict[str, Any]:
        diagnosed = self.diagnosed
        return {
            "position": self.step.position,
            "clause": self.step.clause,
            "entry": self.step.entry,
            "state": str(self.step.state),
            "run_id": self.run.id if self.run else None,
            "run_status": str(self.run.status) if self.run else None,
            "duration_s": self.duration_s,
            "diagnosis": diagnosed.diagnosis.to_json() if diagnosed else None,
            "suggestions": diagnosed.analysis.to_json()
            if diagnosed and diagnosed.analysis
            else None,
            "suggestions_error": diagnosed.analysis_error if diagnosed else None,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class PlanPostmortem:
    plan: PlanRecord
    steps: tuple[StepPostmortem, ...]

    @property
    def failures(self) -> list[StepPostmortem]:
        """The failed steps, in plan order (the first is where the plan went wrong)."""
        return [step for step in self.steps if step.failed]

    @property
    def duration_s(self) -> float | None:
        if self.plan.finished_at is None or self.plan.decided_at is None:
            return None
        return round((self.plan.finished_at - self.plan.decided_at).total_seconds(), 1)

    def to_json(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan.id,
            "request": self.plan.request,
            "status": str(self.plan.status),
            "error": self.plan.error,
            "duration_s": self.duration_s,
            "steps": [step.to_json() for step in self.steps],
        }


GetRun = Callable[[int], Awaitable[RunView | None]]
DiagnosisOf = Callable[[int], Awaitable[Diagnosed]]


async def plan_postmortem(
    plans: PlanReader, get_run: GetRun, diagnosis_of: DiagnosisOf, plan_id: int
) -> PlanPostmortem | None:
    """The post-mortem of the failed plan ``plan_id``; None when there is no such plan.
    Raises ``AnalyzerError`` for a plan that did not fail."""
    plan = await plans.find(plan_id)
    if plan is None:
        return None
    if plan.status is not PlanStatus.FAILED:
        raise AnalyzerError(
            f"Plan {plan_id} did not fail (it is {plan.status}): only a failed plan has a "
            "post-mortem."
        )
    steps = []
    for step in plan.steps:
        run = await get_run(step.run_id) if step.run_id is not None else None
        diagnosed, problem = None, None
        if step.state is StepState.FAILED:
            if run is not None and run.status is RunStatus.FAILED:
                diagnosed = await diagnosis_of(run.id)
            else:
                problem = _undiagnosable(plan, step, run)
        steps.append(StepPostmortem(step, run, diagnosed, problem))
    return PlanPostmortem(plan, tuple(steps))


def _undiagnosable(plan: PlanRecord, step: StepRecord, run: RunView | None) -> str:
    if run is None:
        why = plan.error or "Chiffon could not start its run."
        return f"This step never ran, so there are no tasks to diagnose: {why}"
    return (
        f"Its run #{run.id} ended {run.status}, not failed"
        f"{': ' + run.error if run.error else ''}; there is no failing task to diagnose."
    )
