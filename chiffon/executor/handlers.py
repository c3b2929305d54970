"""What the executor does when other modules' events arrive."""

from __future__ import annotations

from chiffon.audit.events import RunAudited
from chiffon.bus import Subscriptions
from chiffon.router.events import AgentHeartbeatReceived

from .service import ExecutorService


def subscriptions(service: ExecutorService) -> Subscriptions:
    async def when_run_audited_store_commit(event: RunAudited) -> None:
        await service.set_audit_commit(event.run_id, event.commit_sha)

    async def when_agent_heartbeat_received_recheck_paused_runs(
        event: AgentHeartbeatReceived,
    ) -> None:
        service.capacity_changed(event.inventory_host)

    return {
        RunAudited: [when_run_audited_store_commit],
        AgentHeartbeatReceived: [when_agent_heartbeat_received_recheck_paused_runs],
    }
