"""What the executor does when other modules' events arrive."""

from __future__ import annotations

from chiffon.audit.events import RunAudited
from chiffon.bus import Subscriptions

from .service import ExecutorService


def subscriptions(service: ExecutorService) -> Subscriptions:
    async def when_run_audited_store_commit(event: RunAudited) -> None:
        await service.set_audit_commit(event.run_id, event.commit_sha)

    return {RunAudited: [when_run_audited_store_commit]}
