"""The agents API, heartbeat endpoint and pages against the real app, on both databases."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from chiffon.app import Services, bootstrap, create_app
from chiffon.settings import Settings
from tests._auth import set_up
from tests._router import gpu, heartbeat_body


@pytest.fixture
def services(settings: Settings) -> Services:  # type: ignore[override]
    return bootstrap(settings.with_overrides(local_agent_host=""))


@pytest.fixture
def client(settings: Settings, services: Services) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(settings, services=services)) as client:
        set_up(client)
        yield client


@pytest.fixture
def token(settings: Settings) -> str:
    """An agent token, made through its own engine (the app's lives on the client's loop)."""

    async def create() -> str:
        own = bootstrap(settings)
        try:
            return await own.agents.create_token("gpu-box", labels=["gpu"])
        finally:
            await own.engine.dispose()

    return asyncio.run(create())


def _beat(client: TestClient[Litestar], token: str | None, body: Any, **headers: str) -> Any:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.post("/api/agents/heartbeat", json=body, headers=headers)


def test_it_takes_a_heartbeat_and_lists_the_agent(client: TestClient[Litestar], token: str) -> None:
    body = heartbeat_body(gpus=[gpu(0, 24_000, 20_000), gpu(1, 12_000, 6_000, name="RTX 3060")])

    reply = _beat(client, token, body)

    assert reply.status_code == 200, reply.text
    assert reply.json()["agent"] == "gpu-box" and reply.json()["next_heartbeat_s"] == 30
    (agent,) = client.get("/api/agents").json()
    assert agent["status"] == "online" and agent["labels"] == ["gpu"]
    assert [g["vram_free_mb"] for g in agent["resources"]["gpus"]] == [20_000, 6_000]
    one = client.get(f"/api/agents/{agent['id']}").json()
    assert one["name"] == "gpu-box" and len(one["history"]) == 1
    assert one["history"][0]["vram_percent"] == pytest.approx(27.8)  # 10,000 of 36,000 MB in use


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b.pop("resources"), '"resources" is missing'),
        (
            lambda b: b["resources"]["cpu"].pop("cores_free"),
            '"resources.cpu.cores_free" is missing',
        ),
        (lambda b: b["resources"]["memory"].update(total_mb=-1), "cannot be negative"),
        (lambda b: b["resources"]["cpu"].update(percent=1e9), "beyond the possible maximum 100"),
        (lambda b: b["resources"]["memory"].update(total_mb=10**12), "beyond the possible maximum"),
        (lambda b: b["resources"].update(gpus=[gpu(0, 8000, 99_000)]), "vram_free_mb"),
    ],
)
def test_it_answers_422_to_missing_negative_and_absurd_values(
    client: TestClient[Litestar], token: str, mutate: Any, message: str
) -> None:
    body = heartbeat_body()
    mutate(body)

    reply = _beat(client, token, body)

    assert reply.status_code == 422
    assert message in reply.json()["error"]
    assert client.get("/api/agents").json()[0]["status"] == "never seen"


def test_it_answers_422_to_a_body_that_is_not_json(
    client: TestClient[Litestar], token: str
) -> None:
    reply = client.post(
        "/api/agents/heartbeat",
        content=b"\x00\xff garbage",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert reply.status_code == 422 and reply.json() == {"error": "A heartbeat must be JSON."}


def test_it_answers_401_to_a_wrong_or_missing_token(
    client: TestClient[Litestar], token: str
) -> None:
    wrong = _beat(client, "chiffon_agent_guess", heartbeat_body())
    missing = _beat(client, None, heartbeat_body())
    basic = _beat(client, None, heartbeat_body(), Authorization="Basic Zm9vOmJhcg==")

    assert wrong.status_code == missing.status_code == basic.status_code == 401
    assert wrong.json() == {"error": "Unknown or revoked agent token."}
    assert wrong.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in missing.json()["error"]


def test_it_answers_409_to_an_unknown_protocol_naming_what_it_speaks(
    client: TestClient[Litestar], token: str
) -> None:
    reply = _beat(client, token, heartbeat_body(protocol="2.0"))

    assert reply.status_code == 409
    assert reply.json()["supported"] == ["1.x"]
    assert "this server speaks 1.x" in reply.json()["error"]


def test_it_answers_429_to_a_flood_with_retry_after(
    client: TestClient[Litestar], token: str
) -> None:
    codes = [_beat(client, token, heartbeat_body()).status_code for _ in range(8)]

    assert codes[:5] == [200] * 5
    assert set(codes[5:]) == {429}
    flooded = _beat(client, token, heartbeat_body())
    assert flooded.headers["retry-after"] == "2"
    assert "too fast" in flooded.json()["error"]
    assert len(client.get("/api/agents/1").json()["history"]) == 5


def test_it_keeps_the_server_time_when_the_agent_clock_is_wrong(
    client: TestClient[Litestar], token: str
) -> None:
    future = dt.datetime.now(dt.UTC) + dt.timedelta(hours=5)
    before = dt.datetime.now(dt.UTC)

    reply = _beat(client, token, heartbeat_body(sent_at=future.isoformat())).json()

    server_time = dt.datetime.fromisoformat(reply["server_time"])
    assert before <= server_time <= dt.datetime.now(dt.UTC)
    assert reply["clock_skew_s"] == pytest.approx(5 * 3600, abs=5)
    agent = client.get("/api/agents/1").json()
    assert dt.datetime.fromisoformat(agent["last_seen_at"]) == server_time
    assert dt.datetime.fromisoformat(agent["history"][0]["at"]) == server_time


def test_it_404s_an_unknown_agent(client: TestClient[Litestar]) -> None:
    reply = client.get("/api/agents/4242")

    assert reply.status_code == 404 and reply.json() == {"error": "There is no agent 4242."}
    page = client.get("/agents/4242")
    assert page.status_code == 404 and "There is no agent 4242." in page.text


def test_it_places_through_the_api(client: TestClient[Litestar], token: str) -> None:
    _beat(client, token, heartbeat_body(gpus=[gpu(0, 24_000, 20_000)]))

    placed = client.post(
        "/api/placement", json={"hosts": ["gpu-box", "nas"], "needs": {"min_gpu_vram_mb": 8000}}
    ).json()
    bad = client.post("/api/placement", json={"hosts": ["gpu-box"], "needs": {"min_gpu": 1}})

    assert placed["host"] == "gpu-box" and "20,000 MB VRAM free" in placed["reason"]
    assert placed["alternatives"] == [
        {"host": "nas", "fits": False, "reason": "nas: no agent reports for this host",
         "headroom": -1.0, "agent": None}
    ]  # fmt: skip
    assert bad.status_code == 400 and "unknown resource need" in bad.json()["error"]


def test_it_shows_agents_with_bars_and_a_history_chart(
    client: TestClient[Litestar], token: str
) -> None:
    _beat(client, token, heartbeat_body(gpus=[gpu(0, 24_000, 20_000, name="<b>RTX</b>")]))

    page = client.get("/agents")
    fragment = client.get("/agents/_list")
    detail = client.get("/agents/1")

    assert page.status_code == 200 and 'href="/agents" aria-current="page"' in page.text
    assert 'hx-get="/agents/_list"' in page.text and 'hx-trigger="every 5s"' in page.text
    assert fragment.text.count("<meter") == 5  # cpu, memory, disk, GPU busy, GPU VRAM
    assert "&lt;b&gt;RTX&lt;/b&gt;" in fragment.text and "<b>RTX" not in fragment.text
    assert '<svg class="history"' in detail.text and "<polyline" in detail.text
    assert 'hx-get="/agents/1/_detail"' in detail.text
    assert client.get("/agents/1/_detail").text.count("<polyline") == 4


def test_it_shows_a_run_paused_for_capacity_with_the_reason(
    client: TestClient[Litestar], token: str
) -> None:
    _beat(client, token, heartbeat_body(cores_total=4, cores_free=1))

    started = client.post(
        "/api/runs",
        json={"entry": "hello.yml", "needs": {"min_cpu_cores": 3}, "hosts": ["gpu-box"]},
    )
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    deadline = time.monotonic() + 10
    while (run := client.get(f"/api/runs/{run_id}").json())["status"] != "paused_capacity":
        assert time.monotonic() < deadline, run
        time.sleep(0.05)
    page = client.get(f"/runs/{run_id}").text
    bad = client.post("/api/runs", json={"entry": "hello.yml", "needs": {"min_cpu_cores": -1}})
    cancelled = client.post(f"/api/runs/{run_id}/cancel")

    reason = "No host has 3 free cores: gpu-box: 1 cores free, needs 3."
    assert run["placement"] == {
        "needs": {"min_gpu_vram_mb": 0, "min_cpu_cores": 3, "min_memory_mb": 0, "labels": [],
                  "hosts": ["gpu-box"]},
        "host": None,
        "reason": reason,
    }  # fmt: skip
    assert f"Waiting for capacity: {reason}" in page
    assert 'badge-paused_capacity">paused_capacity' in page
    assert bad.status_code == 400 and "min_cpu_cores must be 0 or more" in bad.json()["error"]
    assert cancelled.status_code == 200
