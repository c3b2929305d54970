"""Events the audit module publishes (the commit is written and recorded before each)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PlanAudited", "RunAudited"]


@dataclass(frozen=True)
class RunAudited:
    """A finished run's record is committed to the audit repo as ``commit_sha``."""

    run_id: int
    commit_sha: str
    correlation_id: str


@dataclass(frozen=True)
class PlanAudited:
    """A decided plan's record is committed to the audit repo as ``commit_sha``."""

    plan_id: int
    commit_sha: str
    correlation_id: str
