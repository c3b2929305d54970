"""Events the approval workflow publishes (the plan is stored before each is published)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlanChanged:
    """Anything on the plan changed (a decision, an edit, a step's state): pages refresh."""

    plan_id: int
    correlation_id: str


@dataclass(frozen=True)
class PlanApproved:
    plan_id: int
    correlation_id: str
    approved_by: str


@dataclass(frozen=True)
class PlanDecided:
    """The plan reached an end: rejected, succeeded, failed or cancelled (audit commits it)."""

    plan_id: int
    status: str
    correlation_id: str
