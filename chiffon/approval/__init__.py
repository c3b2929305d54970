"""Approval: a person's decisions on plans (approve, reject, modify), previews, and running
approved plans step by step through the executor."""

from chiffon.approval._errors import (
    ApprovalError,
    InvalidChange,
    NotAllowed,
    PlanConflict,
    PlanNotFound,
)
from chiffon.approval.events import PlanApproved, PlanChanged, PlanDecided
from chiffon.approval.service import ApprovalService, ChangeView, Modification

__all__ = [
    "ApprovalError",
    "ApprovalService",
    "ChangeView",
    "InvalidChange",
    "Modification",
    "NotAllowed",
    "PlanApproved",
    "PlanChanged",
    "PlanConflict",
    "PlanDecided",
    "PlanNotFound",
]
