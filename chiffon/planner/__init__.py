"""Planner: turns a request in plain words into an ordered plan of catalog entries.

This increment is deterministic (names, BM25, values from the request; no LLM, no embeddings)
and stores nothing: plans are returned, not yet written to the database.
"""

from chiffon.planner._plan import (
    Candidate,
    Plan,
    PlanStatus,
    PlanStep,
    Risk,
    RiskLevel,
    StepStatus,
)
from chiffon.planner.service import MAX_REQUEST_CHARS, Planner, RequestError, check_request

__all__ = [
    "MAX_REQUEST_CHARS",
    "Candidate",
    "Plan",
    "PlanStatus",
    "PlanStep",
    "Planner",
    "RequestError",
    "Risk",
    "RiskLevel",
    "StepStatus",
    "check_request",
]
