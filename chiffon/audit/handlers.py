"""The audit module's subscriptions: what it does when other modules' events arrive."""

from __future__ import annotations

from chiffon.approval import PlanDecided
from chiffon.audit.events import RunAudited
from chiffon.audit.service import AuditService
from chiffon.bus import Subscriptions
from chiffon.executor import RunFinished

__all__ = ["subscriptions"]


def subscriptions(service: AuditService) -> Subscriptions:
    """The table ``EventBus.register`` takes, bound to ``service``."""
    return {
        RunFinished: [service.when_run_finished_commit],
        PlanDecided: [service.when_plan_decided_commit],
        RunAudited: [service.when_run_audited_commit_its_plan],
    }
