"""The agent registry and the router on SQLite and PostgreSQL, with a clock the test moves."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from chiffon.bus import EventBus
from chiffon.db import SessionFactory
from chiffon.router import (
    AgentAuthError,
    AgentCameBack,
    AgentError,
    AgentHeartbeatReceived,
    AgentRegistry,
    AgentWentOffline,
    HeartbeatFlood,
    Needs,
    ProtocolError,
    Router,
    UnsupportedProtocol,
)
from chiffon.router.models import AgentHeartbeat
from chiffon.router.protocol import Heartbeat, parse_resources
from tests._router import Clock, gpu, heartbeat_body


class Recorder:
    def __init__(self, bus: EventBus) -> None:
        self.events: list[Any] = []
        for kind in (AgentCameBack, AgentWentOffline, AgentHeartbeatReceived):
            bus.subscribe(kind, self.record)

    async def record(self, event: Any) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
async def registry(
    session_factory: SessionFactory, bus: EventBus, clock: Clock
) -> AsyncIterator[AgentRegistry]:
    registry = AgentRegistry(session_factory, bus, clock=clock, offline_after_s=90)
    yield registry
    await registry.close()


def _raw(**kwargs: Any) -> bytes:
    return json.dumps(heartbeat_body(**kwargs)).encode()


async def test_it_creates_a_token_stored_only_as_its_hash(registry: AgentRegistry) -> None:
    token = await registry.create_token("gpu-box", labels=["gpu"])

    receipt = await registry.ingest(token, _raw())

    assert token.startswith("chiffon_agent_") and len(token) > 40
    (agent,) = await registry.list_agents()
    assert (agent.name, agent.inventory_host, agent.labels) == ("gpu-box", "gpu-box", ("gpu",))
    assert receipt.name == "gpu-box" and agent.online
    async with registry._sessions() as session:
        from chiffon.router.models import Agent

        row = await session.scalar(select(Agent))
        assert (
            row is not None and row.token_hash != token and token not in json.dumps(row.resources)
        )


async def test_it_refuses_a_second_token_and_bad_names(registry: AgentRegistry) -> None:
    await registry.create_token("box")

    with pytest.raises(AgentError, match="already has a token"):
        await registry.create_token("box")
    with pytest.raises(AgentError, match="not an agent name"):
        await registry.create_token("bad name")
    with pytest.raises(AgentError, match="own agent"):
        await registry.create_token("local")
    with pytest.raises(AgentError, match="no agent named"):
        await registry.revoke_token("nobody")


async def test_it_refuses_wrong_and_revoked_tokens(registry: AgentRegistry) -> None:
    token = await registry.create_token("box")
    await registry.ingest(token, _raw())

    with pytest.raises(AgentAuthError, match="Unknown or revoked"):
        await registry.ingest("chiffon_agent_not-a-token", _raw())
    with pytest.raises(AgentAuthError, match="No agent token"):
        await registry.ingest(None, _raw())
    with pytest.raises(AgentAuthError, match="belongs to agent box, not other"):
        await registry.ingest(token, _raw(name="other"))
    await registry.revoke_token("box")
    with pytest.raises(AgentAuthError):
        await registry.ingest(token, _raw())
    (agent,) = await registry.list_agents()
    assert agent.status == "revoked" and not agent.online
    fresh = await registry.create_token("box")  # a revoked agent may get a new token
    assert (await registry.ingest(fresh, _raw())).name == "box"


async def test_it_refuses_bad_bodies_and_stores_nothing(
    registry: AgentRegistry, session_factory: SessionFactory
) -> None:
    token = await registry.create_token("box")

    with pytest.raises(ProtocolError, match="must be JSON"):
        await registry.ingest(token, b"{not json")
    with pytest.raises(UnsupportedProtocol, match=r"speaks 1\.x"):
        await registry.ingest(token, _raw(protocol="9.0"))
    with pytest.raises(ProtocolError, match="cannot be negative"):
        await registry.ingest(token, _raw(cores_free=-2))
    with pytest.raises(ProtocolError, match="at most"):
        await registry.ingest(token, b" " * 70_000)

    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(AgentHeartbeat)) == 0
    (agent,) = await registry.list_agents()
    assert agent.status == "never seen"


async def test_it_rate_limits_a_flood_from_one_agent(
    registry: AgentRegistry, clock: Clock, session_factory: SessionFactory
) -> None:
    token = await registry.create_token("box")
    other = await registry.create_token("calm")

    for _ in range(5):
        await registry.ingest(token, _raw())
    with pytest.raises(HeartbeatFlood) as flood:
        await registry.ingest(token, _raw())

    assert flood.value.retry_after_s == pytest.approx(2.0)
    await registry.ingest(other, _raw())  # other agents are not held back
    clock.advance(2)
    await registry.ingest(token, _raw())
    await registry.flush()
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(AgentHeartbeat)) == 7


async def test_it_stores_the_server_time_whatever_the_agent_clock_says(
    registry: AgentRegistry, clock: Clock
) -> None:
    token = await registry.create_token("box")
    wrong = clock.now - dt.timedelta(days=3, seconds=5)

    receipt = await registry.ingest(token, _raw(sent_at=wrong.isoformat()))

    (agent,) = await registry.list_agents()
    assert receipt.server_time == clock.now == agent.last_seen_at
    assert agent.clock_skew_s == -(3 * 86400 + 5)
    (point,) = await registry.history(agent.id)
    assert point.at == clock.now


async def test_it_marks_a_silent_agent_offline_and_back(
    registry: AgentRegistry, clock: Clock, bus: EventBus
) -> None:
    seen = Recorder(bus)
    token = await registry.create_token("box")
    await registry.ingest(token, _raw())
    await registry.flush()  # events follow the write
    assert [(e.name, e.first_time) for e in seen.of(AgentCameBack)] == [("box", True)]

    clock.advance(89)
    assert await registry.sweep() == []
    assert (await registry.list_agents())[0].online
    clock.advance(2)
    (gone,) = await registry.sweep()
    assert await registry.sweep() == []  # announced once

    (event,) = seen.of(AgentWentOffline)
    assert (event.agent_id, event.name, event.silent_s) == (gone, "box", 91.0)
    assert (await registry.list_agents())[0].status == "offline"
    clock.advance(600)
    await registry.ingest(token, _raw())
    await registry.flush()
    assert [e.first_time for e in seen.of(AgentCameBack)] == [True, False]
    assert (await registry.list_agents())[0].online
    assert len(seen.of(AgentHeartbeatReceived)) == 2


async def test_it_prunes_heartbeats_past_the_retention(
    session_factory: SessionFactory, bus: EventBus, clock: Clock
) -> None:
    registry = AgentRegistry(session_factory, bus, clock=clock, retention_s=3000)
    token = await registry.create_token("box")
    for _ in range(3):
        await registry.ingest(token, _raw())
        clock.advance(1800)

    assert await registry.prune() == 2  # 90 and 60 minutes old; the 30-minute one stays
    (agent,) = await registry.list_agents()
    assert len(await registry.history(agent.id, window_s=86400)) == 1
    await registry.close()


async def test_it_thins_history_to_the_points_asked_for(
    registry: AgentRegistry, clock: Clock
) -> None:
    token = await registry.create_token("box")
    for free in range(10):
        await registry.ingest(token, _raw(cores_free=free % 8))
        clock.advance(3)

    (agent,) = await registry.list_agents()
    points = await registry.history(agent.id, points=4)
    assert 4 <= len(points) <= 5
    assert points[-1].at == clock.now - dt.timedelta(seconds=3)


async def test_it_records_the_local_agent_without_a_token(registry: AgentRegistry) -> None:
    resources = parse_resources(heartbeat_body()["resources"])

    await registry.record_local(Heartbeat(resources=resources), "localhost")
    await registry.record_local(Heartbeat(resources=resources), "localhost")

    (agent,) = await registry.list_agents()
    assert (agent.name, agent.kind, agent.inventory_host, agent.online) == (
        "local", "local", "localhost", True,
    )  # fmt: skip


async def _report(registry: AgentRegistry, name: str, host: str | None = None, **kw: Any) -> None:
    token = await registry.create_token(name, inventory_host=host)
    await registry.ingest(token, _raw(**kw))


async def test_it_places_on_the_host_with_the_most_headroom(registry: AgentRegistry) -> None:
    router = Router(registry)
    await _report(registry, "small", cores_total=4, cores_free=1, gpus=[gpu(0, 8000, 7000)])
    await _report(registry, "big", cores_total=16, cores_free=12, gpus=[gpu(0, 24000, 22000)])
    await _report(registry, "full", cores_total=8, cores_free=7, gpus=[gpu(0, 24000, 1000)])
    needs = Needs(min_gpu_vram_mb=4000, min_cpu_cores=1)

    placement = await router.place(needs, ["small", "big", "full", "ghost"])

    assert placement.host == "big"
    assert placement.reason.startswith("big fits with the most headroom (12 of 16 cores free")
    assert "22,000 MB VRAM free on GPU 0" in placement.reason
    assert placement.reason.endswith("also fits: small.")
    assert [(c.host, c.fits) for c in placement.alternatives] == [
        ("small", True), ("full", False), ("ghost", False),
    ]  # fmt: skip
    assert "best GPU has 1,000 MB VRAM free" in placement.alternatives[1].reason
    assert placement.alternatives[2].reason == "ghost: no agent reports for this host"
    assert await router.fits(needs, "full") == (
        False, "full: best GPU has 1,000 MB VRAM free, needs 4,000 MB",
    )  # fmt: skip
    ok, why = await router.fits(needs, "small")
    assert ok and why.startswith("small: 1 of 4 cores free")


async def test_it_places_nowhere_and_says_why(registry: AgentRegistry, clock: Clock) -> None:
    router = Router(registry)
    await _report(registry, "gpu-box", host="gpu.lan", labels=["gpu"], gpus=[gpu(0, 8000, 8000)])

    assert (await router.place(Needs(), [])).reason == "No candidate hosts to place on."
    nothing = await router.place(Needs(min_gpu_vram_mb=16000, labels=("cuda",)), ["gpu.lan"])
    assert nothing.host is None
    assert nothing.reason == (
        "No host has 16,000 MB free VRAM on one GPU, label(s) cuda: gpu.lan: lacks label(s) "
        "cuda; best GPU has 8,000 MB VRAM free, needs 16,000 MB."
    )
    assert (await router.place(Needs(labels=("gpu",)), ["gpu.lan"])).host == "gpu.lan"
    clock.advance(120)  # no heartbeat since: offline, even before a sweep
    offline = await router.place(Needs(), ["gpu.lan"])
    assert offline.host is None
    assert "agent gpu-box is offline (last seen 2026-11-22T12:00:00+00:00)" in offline.reason


async def test_it_drops_a_token_revoked_or_replaced_by_another_process(
    registry: AgentRegistry, session_factory: SessionFactory, clock: Clock
) -> None:
    token = await registry.create_token("box")
    await registry.ingest(token, _raw())  # the token is now checked in memory
    await registry.flush()
    cli = AgentRegistry(session_factory, EventBus(), clock=clock)  # `chiffon agent-token ...`
    await cli.revoke_token("box")
    fresh = await cli.create_token("box")

    clock.advance(30)
    await registry.ingest(token, _raw(cores_free=1))  # still known here until written
    await registry.flush()

    with pytest.raises(AgentAuthError, match="Unknown or revoked"):
        await registry.ingest(token, _raw())
    (agent,) = await registry.list_agents()
    assert agent.resources is not None and agent.resources.cores_free == 6  # not the stale one
    assert len(await registry.history(agent.id)) == 1
    await registry.ingest(fresh, _raw())
    assert len(await registry.history(agent.id)) == 2
