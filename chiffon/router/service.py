"""AgentRegistry: agent tokens, heartbeat ingest, online / offline, history and pruning.

Time is the server's: a heartbeat is stored at the registry's clock, whatever the agent's
clock says (the difference is kept as ``clock_skew_s`` so a page can point at a wrong clock).
The clock is injected, so tests can move it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import replace

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from chiffon.bus import EventBus
from chiffon.db import SessionFactory, utcnow

from ._flood import FloodGuard
from ._views import AgentView, HistoryPoint, view_of
from ._writes import AGENTS, HeartbeatBuffer, KnownAgent, PendingBeat, agent_values, history_point
from .events import AgentCameBack, AgentHeartbeatReceived, AgentWentOffline
from .models import Agent, AgentHeartbeat
from .protocol import (
    MAX_BODY_BYTES,
    Heartbeat,
    ProtocolError,
    check_agent_name,
    parse_heartbeat,
)

__all__ = ["AgentAuthError", "AgentError", "AgentRegistry", "HeartbeatFlood", "HeartbeatReceipt"]

log = logging.getLogger("chiffon.router")

Clock = Callable[[], dt.datetime]
_REF = (
    Agent.id,
    Agent.name,
    Agent.inventory_host,
    Agent.online,
    Agent.last_seen_at,
    Agent.revoked_at,
)
LOCAL_AGENT = "local"
TOKEN_PREFIX = "chiffon_agent_"


class AgentError(Exception):
    """An agent command cannot be done as asked; the message says why."""


class AgentAuthError(AgentError):
    """The heartbeat's token is unknown, revoked, or belongs to another agent."""


class HeartbeatFlood(AgentError):
    """The agent sends heartbeats faster than allowed; ``retry_after_s`` says when to retry."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class HeartbeatReceipt:
    __slots__ = ("agent_id", "clock_skew_s", "name", "server_time")

    def __init__(
        self, agent_id: int, name: str, server_time: dt.datetime, clock_skew_s: float | None
    ) -> None:
        self.agent_id = agent_id
        self.name = name
        self.server_time = server_time
        self.clock_skew_s = clock_skew_s


def hash_token(token: str) -> str:
    # Tokens are 256 random bits: a plain SHA-256 is enough (no dictionary to resist), and it
    # keeps the per-heartbeat lookup a single indexed equality.
    return hashlib.sha256(token.encode()).hexdigest()


class AgentRegistry:
    def __init__(
        self,
        sessions: SessionFactory,
        bus: EventBus,
        clock: Clock = utcnow,
        offline_after_s: float = 90,
        retention_s: float = 24 * 3600,
        flood_burst: int = 5,
        flood_interval_s: float = 2.0,
        heartbeat_interval_s: float = 30,
    ) -> None:
        self._sessions = sessions
        # Heartbeats skip the ORM session: Core on the sessions' engine is the cheapest write.
        self._engine: AsyncEngine = sessions.kw["bind"]
        self._known: dict[str, KnownAgent] = {}  # token hash -> agent, valid tokens only
        self._buffer = HeartbeatBuffer(self._engine, self._stored)
        self._bus = bus
        self._clock = clock
        self.offline_after_s = offline_after_s
        self.retention_s = retention_s
        self.heartbeat_interval_s = heartbeat_interval_s
        self._flood = FloodGuard(flood_burst, flood_interval_s)

    def now(self) -> dt.datetime:
        return self._clock()

    # -- tokens ---------------------------------------------------------------------------

    async def create_token(
        self, name: str, inventory_host: str | None = None, labels: Sequence[str] = ()
    ) -> str:
        """A new token for agent ``name`` (printed once, stored hashed); raise ``AgentError``.

        A revoked agent gets a fresh token; an agent with a live token must be revoked first.
        """
        try:
            check_agent_name(name)
        except ProtocolError as error:
            raise AgentError(str(error)) from None
        if name == LOCAL_AGENT:
            raise AgentError(f"{LOCAL_AGENT!r} is the Chiffon host's own agent: pick another name.")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        async with self._sessions() as session, session.begin():
            agent = await session.scalar(select(Agent).where(Agent.name == name))
            if agent is not None and agent.revoked_at is None:
                raise AgentError(
                    f"agent {name} already has a token; revoke it first "
                    f"(chiffon agent-token revoke {name})."
                )
            if agent is None:
                agent = Agent(name=name, kind="remote", inventory_host=inventory_host or name)
                agent.labels = sorted(set(labels))
                agent.resources = {}
                session.add(agent)
            elif inventory_host:
                agent.inventory_host = inventory_host
            agent.token_hash = hash_token(token)
            agent.revoked_at = None
        return token

    async def revoke_token(self, name: str) -> None:
        """Revoke ``name``'s token: its heartbeats get 401 from now on; raise ``AgentError``."""
        await self.flush()
        async with self._sessions() as session, session.begin():
            agent = await session.scalar(select(Agent).where(Agent.name == name))
            if agent is None or agent.kind != "remote":
                raise AgentError(f"there is no agent named {name}.")
            if agent.revoked_at is not None:
                raise AgentError(f"agent {name}'s token is already revoked.")
            agent.revoked_at = self._clock()
            agent.token_hash = None
            agent.online = False
        self._forget({agent.id})

    # -- heartbeats -----------------------------------------------------------------------

    async def ingest(self, token: str | None, body: bytes) -> HeartbeatReceipt:
        """Check one heartbeat sent over HTTP and queue it to be stored (within 0.5 s).

        Raises ``AgentAuthError`` (bad token), ``HeartbeatFlood`` (too fast),
        ``UnsupportedProtocol`` (another major version) or ``ProtocolError`` (bad fields).
        """
        if not token:
            raise AgentAuthError("No agent token: send `Authorization: Bearer TOKEN`.")
        if len(body) > MAX_BODY_BYTES:
            raise ProtocolError(f"A heartbeat is at most {MAX_BODY_BYTES} bytes.")
        try:
            decoded = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise ProtocolError("A heartbeat must be JSON.") from None
        heartbeat = parse_heartbeat(decoded)
        digest = hash_token(token)
        agent = await self._known_agent(digest)
        now = self._clock()
        wait = self._flood.admit(agent.id, now.timestamp())
        if wait:
            raise HeartbeatFlood(
                f"Agent {agent.name} sends heartbeats too fast; retry in {wait:.1f} s.", wait
            )
        if heartbeat.name is not None and heartbeat.name != agent.name:
            raise AgentAuthError(f"This token belongs to agent {agent.name}, not {heartbeat.name}.")
        values = agent_values(heartbeat, now)
        agent.inventory_host = values.setdefault("inventory_host", agent.inventory_host)
        agent.labels = values.setdefault("labels", agent.labels)
        came_back = None if agent.online else not agent.seen
        agent.online = agent.seen = True
        self._buffer.add(
            PendingBeat(
                digest, agent.id, agent.name, agent.inventory_host, values,
                history_point(agent.id, heartbeat, now), came_back,
            )
        )  # fmt: skip
        return HeartbeatReceipt(agent.id, agent.name, now, values["clock_skew_s"])

    async def _known_agent(self, digest: str) -> KnownAgent:
        known = self._known.get(digest)
        if known is not None:
            return known
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(
                        AGENTS.c.id, AGENTS.c.name, AGENTS.c.inventory_host, AGENTS.c.labels,
                        AGENTS.c.online, AGENTS.c.last_seen_at, AGENTS.c.revoked_at,
                    ).where(AGENTS.c.token_hash == digest)
                )
            ).first()  # fmt: skip
        if row is None or row.revoked_at is not None:
            raise AgentAuthError("Unknown or revoked agent token.")
        known = KnownAgent(
            row.id, row.name, row.inventory_host, list(row.labels or []), row.online,
            row.last_seen_at is not None,
        )  # fmt: skip
        self._known[digest] = known
        return known

    async def _stored(self, beats: list[PendingBeat], stale: set[str]) -> None:
        for digest in stale:
            self._known.pop(digest, None)
        announced: set[int] = set()
        for beat in beats:
            if beat.came_back is not None:
                log.info("agent %s (%s) is online", beat.name, beat.inventory_host)
                await self._bus.publish(
                    AgentCameBack(beat.agent_id, beat.name, beat.inventory_host, beat.came_back)
                )
        for beat in reversed(beats):  # one event per agent, with its newest state
            if beat.agent_id not in announced:
                announced.add(beat.agent_id)
                await self._bus.publish(
                    AgentHeartbeatReceived(beat.agent_id, beat.name, beat.inventory_host)
                )

    def _forget(self, agent_ids: set[int], offline_only: bool = False) -> None:
        """Drop these agents' tokens from memory (or only mark them offline there)."""
        for digest, known in list(self._known.items()):
            if known.id in agent_ids:
                if offline_only:
                    known.online = False
                else:
                    del self._known[digest]

    async def flush(self) -> None:
        """Store the heartbeats still queued (reads call it: they see what was sent)."""
        await self._buffer.flush()

    async def close(self) -> None:
        await self._buffer.close()

    async def record_local(self, heartbeat: Heartbeat, inventory_host: str) -> HeartbeatReceipt:
        """Store a heartbeat of the Chiffon host's own agent (in process, no token)."""
        now = self._clock()
        values = agent_values(replace(heartbeat, inventory_host=inventory_host), now)
        async with self._sessions() as session, session.begin():
            agent = await session.scalar(select(Agent).where(Agent.name == LOCAL_AGENT))
            if agent is None:
                agent = Agent(name=LOCAL_AGENT, kind="local", inventory_host=inventory_host)
                agent.labels, agent.resources, agent.online = [], {}, False
                session.add(agent)
                await session.flush()
            came_back = None if agent.online else agent.last_seen_at is None
            for name, value in values.items():
                setattr(agent, name, value)
            session.add(AgentHeartbeat(**history_point(agent.id, heartbeat, now)))
        await self._announce(agent.id, agent.name, inventory_host, came_back)
        return HeartbeatReceipt(agent.id, agent.name, now, values["clock_skew_s"])

    async def _announce(self, agent_id: int, name: str, host: str, came_back: bool | None) -> None:
        if came_back is not None:
            log.info("agent %s (%s) is online", name, host)
            await self._bus.publish(AgentCameBack(agent_id, name, host, first_time=came_back))
        await self._bus.publish(AgentHeartbeatReceived(agent_id, name, host))

    # -- upkeep ---------------------------------------------------------------------------

    async def sweep(self) -> list[int]:
        """Mark agents silent for longer than ``offline_after_s`` offline; return their ids."""
        await self.flush()
        now = self._clock()
        cutoff = now - dt.timedelta(seconds=self.offline_after_s)
        gone: list[Agent] = []
        async with self._sessions() as session, session.begin():
            silent = await session.scalars(
                select(Agent).where(Agent.online.is_(True), Agent.last_seen_at < cutoff)
            )
            for agent in silent:
                # Claim the transition, so two instances sweeping announce it once.
                claimed = await session.execute(
                    update(Agent)
                    .where(Agent.id == agent.id, Agent.online.is_(True))
                    .values(online=False)
                )
                if claimed.rowcount:  # type: ignore[attr-defined]
                    gone.append(agent)
        self._forget({agent.id for agent in gone}, offline_only=True)
        for agent in gone:
            assert agent.last_seen_at is not None
            silent_s = round((now - agent.last_seen_at).total_seconds(), 1)
            log.warning("agent %s has sent no heartbeat for %.0f s: offline", agent.name, silent_s)
            await self._bus.publish(
                AgentWentOffline(agent.id, agent.name, agent.inventory_host, silent_s)
            )
        return [agent.id for agent in gone]

    async def prune(self) -> int:
        """Delete heartbeats older than the retention; return how many."""
        await self.flush()
        cutoff = self._clock() - dt.timedelta(seconds=self.retention_s)
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                delete(AgentHeartbeat).where(AgentHeartbeat.received_at < cutoff)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # -- reading --------------------------------------------------------------------------

    async def list_agents(self) -> list[AgentView]:
        await self.flush()
        now = self._clock()
        async with self._sessions() as session:
            rows = await session.scalars(select(Agent).order_by(Agent.name))
            return [view_of(agent, now, self.offline_after_s) for agent in rows]

    async def get_agent(self, agent_id: int) -> AgentView | None:
        await self.flush()
        async with self._sessions() as session:
            agent = await session.get(Agent, agent_id)
            return view_of(agent, self._clock(), self.offline_after_s) if agent else None

    async def agents_for_hosts(self, hosts: Sequence[str]) -> list[AgentView]:
        """Every agent (online or not) that reports for one of the inventory ``hosts``."""
        await self.flush()
        now = self._clock()
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Agent).where(Agent.inventory_host.in_(list(hosts))).order_by(Agent.name)
            )
            return [view_of(agent, now, self.offline_after_s) for agent in rows]

    async def history(
        self, agent_id: int, window_s: float = 3600, points: int = 120
    ) -> list[HistoryPoint]:
        """The agent's heartbeats in the last ``window_s``, thinned to at most ``points``."""
        await self.flush()
        since = self._clock() - dt.timedelta(seconds=window_s)
        async with self._sessions() as session:
            rows = (
                await session.scalars(
                    select(AgentHeartbeat)
                    .where(AgentHeartbeat.agent_id == agent_id, AgentHeartbeat.received_at >= since)
                    .order_by(AgentHeartbeat.received_at)
                )
            ).all()
        step = max(1, -(-len(rows) // points))
        kept = list(rows[::step])
        if rows and kept[-1] is not rows[-1]:
            kept.append(rows[-1])  # the newest point is always drawn
        return [
            HistoryPoint(
                r.received_at, r.cpu_percent, r.memory_percent, r.gpu_percent, r.vram_percent
            )
            for r in kept
        ]
