"""Planner: turns a request in plain words into an ordered plan of catalog entries, and keeps
the plans people asked for (``Planner.submit``; ``Planner.plans`` reads and changes them)."""

from chiffon.planner._drafts import draft_for
from chiffon.planner._placement import (
    PlacementGate,
    PlacementRefused,
    StepPlacement,
    StepPlacer,
)
from chiffon.planner._plan import (
    Candidate,
    Draft,
    LlmCall,
    Plan,
    PlanStatus,
    PlanStep,
    Risk,
    RiskLevel,
    StepState,
    StepStatus,
)
from chiffon.planner._providers import LlmPlanner
from chiffon.planner._records import PlanRecord, SavedDraft, StepRecord
from chiffon.planner._store import PlanStore
from chiffon.planner.events import PlanProposed
from chiffon.planner.service import (
    MAX_REQUEST_CHARS,
    DraftError,
    DraftNameError,
    DraftNotFound,
    Planner,
    RequestError,
    check_request,
)

__all__ = [
    "MAX_REQUEST_CHARS",
    "Candidate",
    "Draft",
    "DraftError",
    "DraftNameError",
    "DraftNotFound",
    "LlmCall",
    "LlmPlanner",
    "PlacementGate",
    "PlacementRefused",
    "Plan",
    "PlanProposed",
    "PlanRecord",
    "PlanStatus",
    "PlanStep",
    "PlanStore",
    "Planner",
    "RequestError",
    "Risk",
    "RiskLevel",
    "SavedDraft",
    "StepPlacement",
    "StepPlacer",
    "StepRecord",
    "StepState",
    "StepStatus",
    "check_request",
    "draft_for",
]
