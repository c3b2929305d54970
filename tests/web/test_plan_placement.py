"""Placement over HTTP: agents report through the heartbeat endpoint; the plan JSON and card
show where a step runs and why; the modify form and API override it, or refuse with a reason."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from chiffon.app import Services, bootstrap, create_app
from chiffon.settings import Settings
from tests._auth import ADMIN, set_up
from tests._placement import REQUEST, add_gpu_hosts, gpu_beat

HTMX = {"HX-Request": "true"}


@pytest.fixture
def placed_settings(settings: Settings, sample_repo: Path) -> Settings:
    add_gpu_hosts(sample_repo)
    return settings.with_overrides(local_agent_host="", embeddings=False)


@pytest.fixture
def client(placed_settings: Settings) -> Iterator[TestClient[Litestar]]:
    services = bootstrap(placed_settings)
    with TestClient(create_app(placed_settings, services=services)) as client:
        set_up(client)
        yield client


@pytest.fixture
def tokens(placed_settings: Settings) -> dict[str, str]:
    """Agent tokens for localhost and gpubox, made through their own engine."""

    async def create() -> dict[str, str]:
        own: Services = bootstrap(placed_settings)
        try:
            return {
                "localhost": await own.agents.create_token("this-box", "localhost", ["gpu"]),
                "gpubox": await own.agents.create_token("gpu-box", "gpubox", ["gpu"]),
            }
        finally:
            await own.engine.dispose()

    return asyncio.run(create())


def _report(client: TestClient[Litestar], tokens: dict[str, str], **free: int) -> None:
    for host, vram_free_mb in free.items():
        reply = client.post(
            "/api/agents/heartbeat",
            json=gpu_beat(vram_free_mb),
            headers={"Authorization": f"Bearer {tokens[host]}"},
        )
        assert reply.status_code == 200, reply.text


def _ask(client: TestClient[Litestar]) -> dict[str, Any]:
    response = client.post("/api/requests", json={"text": REQUEST})
    assert response.status_code == 201, response.text
    plan: dict[str, Any] = response.json()
    return plan


def test_it_shows_the_placement_in_the_plan_json_and_on_the_card(
    client: TestClient[Litestar], tokens: dict[str, str]
) -> None:
    _report(client, tokens, localhost=20_000, gpubox=10_000)
    plan = _ask(client)

    placement = client.get(f"/api/plans/{plan['id']}").json()["steps"][0]["placement"]
    assert (placement["host"], placement["limit"], placement["target"]) == (
        "localhost",
        "localhost",
        "gpu",
    )
    assert placement["reason"].startswith("localhost fits with the most headroom")
    assert [c["host"] for c in placement["candidates"]] == ["localhost", "gpubox"]

    card = client.get(f"/plans/{plan['id']}", headers=HTMX).text
    assert 'data-testid="placement-host">localhost</span>' in card
    assert "picked by the router among gpu (gpubox, localhost)" in card
    assert "Needs 8,000 MB free VRAM on one GPU, label(s) gpu." in card
    assert "gpubox: fits" in card
    assert '<option value="gpubox" >gpubox</option>' in card


def test_it_says_on_the_card_when_no_host_fits(
    client: TestClient[Litestar], tokens: dict[str, str]
) -> None:
    _report(client, tokens, localhost=1_000, gpubox=2_000)
    plan = _ask(client)

    assert plan["status"] == "pending_approval" and plan["steps"][0]["placement"]["host"] is None
    card = client.get(f"/plans/{plan['id']}", headers=HTMX).text
    assert "no host fits now" in card
    assert "the run would wait (paused for capacity) until one of gpubox, localhost" in card


def test_the_modify_form_overrides_the_placement(
    client: TestClient[Litestar], tokens: dict[str, str]
) -> None:
    _report(client, tokens, localhost=20_000, gpubox=10_000)
    plan = _ask(client)

    card = client.post(
        f"/plans/{plan['id']}/modify",
        data={"version": str(plan["version"]), "keep_0": "on", "placement_0": "gpubox"},
        headers=HTMX,
    )

    assert card.status_code == 200, card.text
    assert 'data-testid="placement-host">gpubox</span>' in card.text
    assert f"chosen by {ADMIN}" in card.text and "the router's pick: localhost" in card.text
    stored = client.get(f"/api/plans/{plan['id']}").json()
    assert stored["steps"][0]["placement"]["override"]["limit"] == "gpubox"
    assert stored["steps"][0]["placement"]["limit"] == "gpubox"
    (change,) = stored["changes"]
    assert (change["by"], change["detail"]) == (ADMIN, {"placements": {"1": "gpubox"}})


def test_the_form_refuses_a_host_outside_the_target_with_the_reason(
    client: TestClient[Litestar], tokens: dict[str, str]
) -> None:
    _report(client, tokens, localhost=20_000, gpubox=10_000)
    plan = _ask(client)

    card = client.post(
        f"/plans/{plan['id']}/modify",
        data={"keep_0": "on", "placement_0": "", "placement_limit_0": "nas"},
        headers=HTMX,
    )

    assert card.status_code == 422
    assert "step 1: nas is not in the step&#39;s target gpu (gpubox, localhost)" in card.text
    assert client.get(f"/api/plans/{plan['id']}").json()["changes"] == []


@pytest.mark.parametrize(
    ("placements", "status", "message"),
    [
        ({"0": "ghost"}, 422, "ghost: no such host or group in the inventory"),
        ({"0": "nas"}, 422, "nas is not in the step's target gpu"),
        ({"3": "gpubox"}, 422, "has no step 4"),
    ],
)
def test_the_api_refuses_a_bad_override(
    client: TestClient[Litestar],
    tokens: dict[str, str],
    placements: dict[str, str],
    status: int,
    message: str,
) -> None:
    _report(client, tokens, localhost=20_000, gpubox=10_000)
    plan = _ask(client)

    refused = client.post(f"/api/plans/{plan['id']}/modify", json={"placements": placements})

    assert refused.status_code == status and message in refused.json()["error"]


def test_the_api_overrides_and_refuses_once_the_plan_is_decided(
    client: TestClient[Litestar], tokens: dict[str, str]
) -> None:
    _report(client, tokens, localhost=20_000, gpubox=10_000)
    plan = _ask(client)

    changed = client.post(
        f"/api/plans/{plan['id']}/modify", json={"placements": {"0": "gpubox,localhost"}}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["steps"][0]["placement"]["override"]["hosts"] == ["gpubox", "localhost"]

    client.post(f"/api/plans/{plan['id']}/reject", json={"reason": "not today"})
    refused = client.post(f"/api/plans/{plan['id']}/modify", json={"placements": {"0": "gpubox"}})

    assert refused.status_code == 409 and "it is already rejected" in refused.json()["error"]
