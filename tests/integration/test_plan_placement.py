"""Plans placed on hosts by the router (SQLite and PostgreSQL): the pick and why, stored on the
step; a person's override, recorded and checked against the step's target."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chiffon.app import Services, bootstrap
from chiffon.approval import InvalidChange, Modification, PlanConflict
from chiffon.planner import PlanRecord, PlanStatus
from chiffon.settings import Settings
from tests._placement import REQUEST, add_gpu_hosts, gpu_beat


@pytest.fixture
async def services(settings: Settings, sample_repo: Path) -> AsyncIterator[Services]:  # type: ignore[override]
    add_gpu_hosts(sample_repo)
    services = bootstrap(settings.with_overrides(local_agent_host="", embeddings=False))
    await services.start()
    yield services
    await services.stop()


async def _agents(services: Services, localhost_free: int, gpubox_free: int) -> dict[str, str]:
    """Agents for localhost and gpubox (label gpu), each reporting a GPU with this much free."""
    tokens = {
        "localhost": await services.agents.create_token("this-box", "localhost", ["gpu"]),
        "gpubox": await services.agents.create_token("gpu-box", "gpubox", ["gpu"]),
    }
    await _beat(services, tokens["localhost"], localhost_free)
    await _beat(services, tokens["gpubox"], gpubox_free)
    return tokens


async def _beat(services: Services, token: str, vram_free_mb: int) -> None:
    await services.agents.ingest(token, json.dumps(gpu_beat(vram_free_mb)).encode())


async def _plan(services: Services) -> PlanRecord:
    plan = await services.planner.submit(REQUEST, "ada")
    assert [s.entry["name"] for s in plan.steps if s.entry] == ["train"]
    return plan


async def test_it_places_a_step_on_the_host_with_the_most_headroom(services: Services) -> None:
    await _agents(services, localhost_free=20_000, gpubox_free=10_000)

    plan = await _plan(services)

    placement = plan.steps[0].placement
    assert placement is not None
    assert (placement.host, placement.limit, placement.target) == ("localhost", "localhost", "gpu")
    assert placement.hosts == ("gpubox", "localhost")
    assert placement.reason.startswith("localhost fits with the most headroom (")
    assert "20,000 MB VRAM free on GPU 0" in placement.reason
    assert "also fits: gpubox" in placement.reason
    assert [(c["host"], c["fits"]) for c in placement.candidates] == [
        ("localhost", True),
        ("gpubox", True),
    ]
    assert placement.candidates[0]["headroom"] > placement.candidates[1]["headroom"]
    stored = await services.approval.get(plan.id)
    assert stored.steps[0].placement == placement
    as_json = stored.to_json()["steps"][0]["placement"]
    assert as_json["host"] == "localhost" and as_json["override"] is None
    assert as_json["needs"] == {
        "min_gpu_vram_mb": 8000, "min_cpu_cores": 0, "min_memory_mb": 0, "labels": ["gpu"],
    }  # fmt: skip


async def test_it_says_on_the_step_when_nothing_fits_and_keeps_the_plan(
    services: Services,
) -> None:
    await _agents(services, localhost_free=2_000, gpubox_free=1_000)

    plan = await _plan(services)

    assert plan.status is PlanStatus.PENDING_APPROVAL
    placement = plan.steps[0].placement
    assert placement is not None and placement.host is None and placement.limit is None
    assert placement.run_hosts == ("gpubox", "localhost")  # placed again when it runs
    assert placement.reason.startswith("No host has 8,000 MB free VRAM on one GPU, label(s) gpu")
    assert "gpubox: best GPU has 1,000 MB VRAM free, needs 8,000 MB" in placement.reason


async def test_it_judges_a_host_without_an_agent_as_not_fitting(services: Services) -> None:
    token = await services.agents.create_token("gpu-box", "gpubox", ["gpu"])
    await _beat(services, token, 12_000)

    placement = (await _plan(services)).steps[0].placement

    assert placement is not None and placement.host == "gpubox"
    assert [(c["host"], c["fits"]) for c in placement.candidates] == [
        ("gpubox", True),
        ("localhost", False),
    ]
    assert placement.candidates[1]["reason"] == "localhost: no agent reports for this host"


async def test_it_leaves_unplaced_a_step_on_one_host(services: Services) -> None:
    await _agents(services, 20_000, 10_000)

    hello = await services.planner.submit("say hello", "ada")  # needs a core; homelab: 1 host

    assert hello.steps[0].entry is not None and hello.steps[0].placement is None


async def test_it_overrides_the_placement_and_records_who_and_what(services: Services) -> None:
    await _agents(services, 20_000, 10_000)
    plan = await _plan(services)

    changed = await services.approval.modify(plan.id, "bob", Modification(placements={0: "gpubox"}))

    placement = changed.steps[0].placement
    assert placement is not None
    assert (placement.host, placement.override, placement.limit) == (
        "localhost",
        "gpubox",
        "gpubox",
    )
    assert placement.run_hosts == ("gpubox",) and placement.override_by == "bob"
    (change,) = await services.approval.changes(plan.id)
    assert (change.by, change.action, change.detail) == (
        "bob", "modified", {"placements": {"1": "gpubox"}},
    )  # fmt: skip

    # Another edit keeps the override (and who made it); clearing it gives the router's pick.
    kept = await services.approval.modify(plan.id, "cy", Modification(vars={0: {}}))
    assert kept.steps[0].placement is not None
    assert (kept.steps[0].placement.override, kept.steps[0].placement.override_by) == (
        "gpubox",
        "bob",
    )
    cleared = await services.approval.modify(plan.id, "cy", Modification(placements={0: ""}))
    assert cleared.steps[0].placement is not None
    assert cleared.steps[0].placement.limit == "localhost"
    assert (await services.approval.changes(plan.id))[-1].detail == {"placements": {"1": None}}


async def test_it_takes_an_explicit_limit_within_the_target(services: Services) -> None:
    await _agents(services, 20_000, 10_000)
    plan = await _plan(services)

    changed = await services.approval.modify(
        plan.id, "bob", Modification(placements={0: "gpubox,localhost"})
    )

    placement = changed.steps[0].placement
    assert placement is not None and placement.limit == "gpubox,localhost"
    assert placement.run_hosts == ("gpubox", "localhost")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("ghost", "step 1: ghost: no such host or group in the inventory"),
        ("nas", r"step 1: nas is not in the step's target gpu \(gpubox, localhost\); pick"),
        ("storage", "step 1: nas is not in the step's target gpu"),
    ],
)
async def test_it_refuses_an_override_outside_the_target(
    services: Services, override: str, message: str
) -> None:
    await _agents(services, 20_000, 10_000)
    plan = await _plan(services)

    with pytest.raises(InvalidChange, match=message):
        await services.approval.modify(plan.id, "bob", Modification(placements={0: override}))

    unchanged = await services.approval.get(plan.id)
    assert unchanged.version == plan.version
    assert await services.approval.changes(plan.id) == []


async def test_it_refuses_an_override_on_a_step_that_is_not_placed(services: Services) -> None:
    hello = await services.planner.submit("say hello", "ada")

    with pytest.raises(InvalidChange, match="hello has no placement to override"):
        await services.approval.modify(hello.id, "bob", Modification(placements={0: "localhost"}))


async def test_it_refuses_a_placement_on_a_plan_no_longer_pending(services: Services) -> None:
    await _agents(services, 20_000, 10_000)
    plan = await _plan(services)
    await services.approval.reject(plan.id, "bob", "not now")

    with pytest.raises(PlanConflict, match=r"cannot modify plan \d+: it is already rejected"):
        await services.approval.modify(plan.id, "bob", Modification(placements={0: "gpubox"}))


async def test_it_places_again_on_revalidate_and_drops_an_override_off_the_new_target(
    services: Services,
) -> None:
    tokens = await _agents(services, 20_000, 10_000)
    plan = await _plan(services)
    await services.approval.modify(plan.id, "bob", Modification(placements={0: "gpubox"}))

    await _beat(services, tokens["localhost"], 3_000)  # localhost's GPU filled up meanwhile
    again = await services.approval.revalidate(plan.id, "cy")
    assert again.steps[0].placement is not None
    assert (again.steps[0].placement.host, again.steps[0].placement.limit) == ("gpubox", "gpubox")

    narrowed = await services.approval.modify(plan.id, "cy", Modification(targets={0: "localhost"}))
    assert narrowed.steps[0].placement is None  # one host: nothing to place
    assert (await services.approval.changes(plan.id))[-1].detail == {
        "targets": {"1": "localhost"},
        "placements_dropped": {"1": "gpubox"},
    }


async def test_the_plan_command_prints_the_placement(
    services: Services, settings: Settings, sample_repo: Path, db_url: str
) -> None:
    await _agents(services, localhost_free=20_000, gpubox_free=10_000)
    await services.agents.flush()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHIFFON_")}
    env.update(
        CHIFFON_DATA_DIR=str(settings.data_dir),
        CHIFFON_PLAYBOOKS_DIR=str(sample_repo),
        CHIFFON_DATABASE_URL=db_url,
        CHIFFON_EMBEDDINGS="false",
    )

    def plan(output: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "chiffon", "plan", "--format", output, REQUEST],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    as_json, as_text = await asyncio.gather(
        asyncio.to_thread(plan, "json"), asyncio.to_thread(plan, "text")
    )

    (step,) = json.loads(as_json)["steps"]
    assert (step["placement"]["host"], step["placement"]["target"]) == ("localhost", "gpu")
    assert step["placement"]["reason"].startswith("localhost fits with the most headroom")
    assert "   runs on: localhost (localhost fits with the most headroom" in as_text
