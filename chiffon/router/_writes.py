"""Heartbeat writes, batched: the hot path of 500 agents must cost little CPU.

A checked heartbeat is answered at once and written with the others that arrived within
``flush_after_s`` in one transaction (one UPDATE of the agents, one INSERT of history rows,
each an executemany). Events are published after the commit, so state is stored first. Reads
of the registry flush first, so a process always reads what it was sent. A crash loses at most
the last ``flush_after_s`` of heartbeats: telemetry, which the next heartbeat replaces anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from .models import Agent, AgentHeartbeat
from .protocol import Heartbeat

log = logging.getLogger("chiffon.router")

AGENTS = cast(Table, Agent.__table__)
HEARTBEATS = cast(Table, AgentHeartbeat.__table__)


@dataclass
class KnownAgent:
    """What ingest needs of an agent with a valid token, kept in memory between heartbeats."""

    id: int
    name: str
    inventory_host: str
    labels: list[str]
    online: bool
    seen: bool


@dataclass(frozen=True)
class PendingBeat:
    digest: str  # the token's hash it came with
    agent_id: int
    name: str
    inventory_host: str
    values: dict[str, Any]  # the agent row's new columns
    point: dict[str, Any]  # the history row
    came_back: bool | None  # None: it was online; else whether it is its first heartbeat


def _percent(part: float, whole: float) -> float:
    return round(100 * part / whole, 1) if whole > 0 else 0.0


def agent_values(heartbeat: Heartbeat, now: dt.datetime) -> dict[str, Any]:
    """The agent row's columns after ``heartbeat`` arrived at ``now`` (server time)."""
    skew = None
    if heartbeat.sent_at is not None:
        skew = round((heartbeat.sent_at - now).total_seconds(), 3)
    values: dict[str, Any] = {
        "online": True,
        "last_seen_at": now,
        "clock_skew_s": skew,
        "protocol": heartbeat.protocol,
        "agent_version": heartbeat.agent_version,
        "resources": heartbeat.resources.to_json(),
    }
    if heartbeat.inventory_host is not None:
        values["inventory_host"] = heartbeat.inventory_host
    if heartbeat.labels is not None:
        values["labels"] = list(heartbeat.labels)
    return values


def history_point(agent_id: int, heartbeat: Heartbeat, now: dt.datetime) -> dict[str, Any]:
    """The history row of ``heartbeat``: the figures the chart draws."""
    resources = heartbeat.resources
    gpus = resources.gpus
    vram_total = sum(gpu.vram_total_mb for gpu in gpus)
    return {
        "agent_id": agent_id,
        "received_at": now,
        "cpu_percent": resources.cpu_percent,
        "memory_percent": _percent(
            resources.memory_total_mb - resources.memory_available_mb, resources.memory_total_mb
        ),
        "gpu_percent": (
            round(sum(g.utilization_percent for g in gpus) / len(gpus), 1) if gpus else None
        ),
        "vram_percent": (
            _percent(vram_total - sum(g.vram_free_mb for g in gpus), vram_total) if gpus else None
        ),
    }


_UPDATE_AGENT = (
    update(AGENTS)
    .where(AGENTS.c.id == bindparam("agent_row_id"), AGENTS.c.revoked_at.is_(None))
    .values(
        online=bindparam("online"),
        last_seen_at=bindparam("last_seen_at"),
        clock_skew_s=bindparam("clock_skew_s"),
        protocol=bindparam("protocol"),
        agent_version=bindparam("agent_version"),
        resources=bindparam("resources"),
        inventory_host=bindparam("inventory_host"),
        labels=bindparam("labels"),
    )
)


class HeartbeatBuffer:
    def __init__(
        self,
        engine: AsyncEngine,
        on_stored: Callable[[list[PendingBeat], set[str]], Awaitable[None]],
        flush_after_s: float = 0.5,
        max_batch: int = 1000,
    ) -> None:
        self._engine = engine
        self._on_stored = on_stored
        self._flush_after_s = flush_after_s
        self._max_batch = max_batch
        self._pending: list[PendingBeat] = []
        self._lock = asyncio.Lock()
        self._timer: asyncio.Task[None] | None = None

    def add(self, beat: PendingBeat) -> None:
        self._pending.append(beat)
        if len(self._pending) >= self._max_batch:
            self._start_flush(0)
        elif self._timer is None or self._timer.done():
            self._start_flush(self._flush_after_s)

    def _start_flush(self, after_s: float) -> None:
        async def later() -> None:
            await asyncio.sleep(after_s)
            try:
                # Shielded: a close() that cancels this timer must not cut a write in half.
                await asyncio.shield(self.flush())
            except Exception:
                log.exception("storing %d heartbeats failed", len(self._pending))

        self._timer = asyncio.create_task(later())

    async def flush(self) -> None:
        """Write every pending heartbeat now, then announce them."""
        async with self._lock:
            batch, self._pending = self._pending, []
            if not batch:
                return
            ids = {beat.agent_id for beat in batch}
            async with self._engine.begin() as connection:
                # A token revoked or replaced (by another process) since it was checked in
                # memory: its heartbeats are dropped, and the token forgotten.
                rows = await connection.execute(
                    select(AGENTS.c.id, AGENTS.c.token_hash).where(AGENTS.c.id.in_(ids))
                )
                current = {agent_id: token_hash for agent_id, token_hash in rows}
                kept = [beat for beat in batch if current.get(beat.agent_id) == beat.digest]
                stale = {beat.digest for beat in batch} - {beat.digest for beat in kept}
                latest = {beat.agent_id: beat for beat in kept}  # the newest state wins
                if latest:
                    await connection.execute(
                        _UPDATE_AGENT,
                        [{"agent_row_id": b.agent_id, **b.values} for b in latest.values()],
                    )
                    await connection.execute(insert(HEARTBEATS), [b.point for b in kept])
        await self._on_stored(kept, stale)

    async def close(self) -> None:
        if self._timer is not None and not self._timer.done():
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        await self.flush()
