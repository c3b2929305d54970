"""Planner: turns a request in plain words into an ordered plan of catalog entries.

The deterministic planner (names, BM25, values from the request) always runs; configured LLM
providers may then choose among its candidates; steps nothing fits get a generated draft. Plans
are returned, not yet written to the database (LLM usage rows are).
"""

from chiffon.planner._drafts import draft_for
from chiffon.planner._plan import (
    Candidate,
    Draft,
    LlmCall,
    Plan,
    PlanStatus,
    PlanStep,
    Risk,
    RiskLevel,
    StepStatus,
)
from chiffon.planner._providers import LlmPlanner
from chiffon.planner.service import (
    MAX_REQUEST_CHARS,
    DraftError,
    Planner,
    RequestError,
    check_request,
)

__all__ = [
    "MAX_REQUEST_CHARS",
    "Candidate",
    "Draft",
    "DraftError",
    "LlmCall",
    "LlmPlanner",
    "Plan",
    "PlanStatus",
    "PlanStep",
    "Planner",
    "RequestError",
    "Risk",
    "RiskLevel",
    "StepStatus",
    "check_request",
    "draft_for",
]
