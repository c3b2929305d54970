"""The registry's read views: an agent as pages and the API show it, and history points."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .models import Agent
from .protocol import ProtocolError, Resources, parse_resources


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class AgentView:
    id: int
    name: str
    kind: str
    inventory_host: str
    labels: tuple[str, ...]
    resources: Resources | None
    online: bool
    revoked: bool
    last_seen_at: dt.datetime | None
    created_at: dt.datetime
    clock_skew_s: float | None
    protocol: str | None
    agent_version: str | None

    @property
    def status(self) -> str:
        if self.revoked:
            return "revoked"
        if self.last_seen_at is None:
            return "never seen"
        return "online" if self.online else "offline"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "inventory_host": self.inventory_host,
            "labels": list(self.labels),
            "status": self.status,
            "online": self.online,
            "last_seen_at": _iso(self.last_seen_at),
            "created_at": _iso(self.created_at),
            "clock_skew_s": self.clock_skew_s,
            "protocol": self.protocol,
            "agent_version": self.agent_version,
            "resources": self.resources.to_json() if self.resources else None,
        }


def view_of(agent: Agent, now: dt.datetime, offline_after_s: float) -> AgentView:
    try:
        resources = parse_resources(agent.resources) if agent.resources else None
    except ProtocolError:
        resources = None  # written by an older version in another shape: shown as unknown
    fresh = agent.last_seen_at is not None and (
        (now - agent.last_seen_at).total_seconds() <= offline_after_s
    )
    return AgentView(
        id=agent.id,
        name=agent.name,
        kind=agent.kind,
        inventory_host=agent.inventory_host,
        labels=tuple(agent.labels or ()),
        resources=resources,
        online=fresh and agent.revoked_at is None,
        revoked=agent.revoked_at is not None,
        last_seen_at=agent.last_seen_at,
        created_at=agent.created_at,
        clock_skew_s=agent.clock_skew_s,
        protocol=agent.protocol,
        agent_version=agent.agent_version,
    )


@dataclass(frozen=True)
class HistoryPoint:
    at: dt.datetime
    cpu_percent: float
    memory_percent: float
    gpu_percent: float | None
    vram_percent: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "cpu_percent": self.cpu_percent,
            "memory_percent": self.memory_percent,
            "gpu_percent": self.gpu_percent,
            "vram_percent": self.vram_percent,
        }
