"""Events the planner publishes (the plan is stored before each is published)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlanProposed:
    plan_id: int
    correlation_id: str
