"""Events the router publishes (each after its state is stored)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AgentHeartbeatReceived:
    """An agent reported its resources: capacity may have changed (paused runs re-check)."""

    agent_id: int
    name: str
    inventory_host: str


@dataclass(frozen=True)
class AgentWentOffline:
    agent_id: int
    name: str
    inventory_host: str
    silent_s: float  # seconds since its last heartbeat when it was marked offline


@dataclass(frozen=True)
class AgentCameBack:
    """An agent is online again, or for the first time (``first_time``)."""

    agent_id: int
    name: str
    inventory_host: str
    first_time: bool
