"""What a plan's card and page show, gathered from the approval, executor and catalog services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chiffon.approval.service import ApprovalService, ChangeView
from chiffon.catalog import CatalogService, Variable
from chiffon.executor import ExecutorService, RunView
from chiffon.planner import PlanRecord


@dataclass(frozen=True)
class PlanPage:
    plan: PlanRecord
    changes: list[ChangeView]
    runs: dict[int, RunView]  # by run id: the steps' runs and preview runs
    declared: dict[int, list[Variable]]  # by step position
    stale: list[str]
    error: str | None = None

    @property
    def hosts(self) -> dict[str, dict[str, int]]:
        """Per host, the summed recap of the plan's real (not preview) runs."""
        totals: dict[str, dict[str, int]] = {}
        for step in self.plan.steps:
            run = self.runs.get(step.run_id) if step.run_id else None
            for host, stats in (run.host_stats if run else {}).items():
                into = totals.setdefault(
                    host, {"ok": 0, "changed": 0, "failed": 0, "unreachable": 0}
                )
                into["ok"] += stats.get("ok", 0)
                into["changed"] += stats.get("changed", 0)
                into["failed"] += stats.get("failures", 0)
                into["unreachable"] += stats.get("dark", 0)
        return totals

    @property
    def duration_s(self) -> float | None:
        if self.plan.finished_at is None or self.plan.decided_at is None:
            return None
        return round((self.plan.finished_at - self.plan.decided_at).total_seconds(), 1)

    def context(self) -> dict[str, Any]:
        return {"page": self, "plan": self.plan}


async def plan_page(
    approval: ApprovalService,
    executor: ExecutorService,
    catalog: CatalogService,
    plan_id: int,
    error: str | None = None,
) -> PlanPage:
    """Everything the plan card needs; raises ``PlanNotFound``."""
    plan = await approval.get(plan_id)
    runs: dict[int, RunView] = {}
    declared: dict[int, list[Variable]] = {}
    # Each entry resolved once for both the variables and the staleness check.
    resolved = await approval.resolve_steps(plan) if plan.status.is_open else {}
    for step in plan.steps:
        for run_id in (step.run_id, step.preview_run_id):
            if run_id is not None:
                run = await executor.get_run(run_id)
                if run is not None:
                    runs[run_id] = run
        if step.entry_ref is not None and plan.status.is_open:
            entry = resolved.get(step.entry_ref)
            declared[step.position] = list(entry.variables) if entry is not None else []
    stale = await approval.stale_steps(plan, resolved) if plan.status.is_open else []
    changes = await approval.changes(plan_id)
    return PlanPage(plan, changes, runs, declared, stale, error)
