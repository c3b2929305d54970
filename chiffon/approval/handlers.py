"""The approval module's subscriptions."""

from __future__ import annotations

from chiffon.approval.events import PlanApproved
from chiffon.approval.service import ApprovalService
from chiffon.bus import Subscriptions

__all__ = ["subscriptions"]


def subscriptions(service: ApprovalService) -> Subscriptions:
    return {PlanApproved: [service.when_plan_approved_dispatch]}
