"""The approval module's subscriptions."""

from __future__ import annotations

from chiffon.approval.events import PlanApproved
from chiffon.approval.service import ApprovalService
from chiffon.audit.events import PlanAudited
from chiffon.bus import Subscriptions

__all__ = ["subscriptions"]


def subscriptions(service: ApprovalService) -> Subscriptions:
    async def when_plan_audited_store_commit(event: PlanAudited) -> None:
        await service.set_audit_commit(event.plan_id, event.commit_sha)

    return {
        PlanApproved: [service.when_plan_approved_dispatch],
        PlanAudited: [when_plan_audited_store_commit],
    }
