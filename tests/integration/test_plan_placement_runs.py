"""Placed plans end to end: an approved plan's step runs with real ansible on localhost, on the
placed host (a person's override first), with capacity checked again before it starts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from chiffon.app import Services, bootstrap
from chiffon.approval import Modification
from chiffon.executor import RunStatus, RunView
from chiffon.planner import PlanRecord, PlanStatus
from chiffon.settings import Settings
from tests._placement import REQUEST, add_gpu_hosts, gpu_beat

pytestmark = pytest.mark.slow


@pytest.fixture
async def services(settings: Settings, sample_repo: Path) -> AsyncIterator[Services]:  # type: ignore[override]
    add_gpu_hosts(sample_repo)
    changed = settings.with_overrides(
        local_agent_host="", embeddings=False, capacity_wait_seconds=60
    )
    services = bootstrap(changed)
    await services.start()
    yield services
    await services.stop()


async def _beat(services: Services, token: str, vram_free_mb: int) -> None:
    await services.agents.ingest(token, json.dumps(gpu_beat(vram_free_mb)).encode())


async def _until(
    services: Services, plan_id: int, done: Callable[[PlanRecord], bool]
) -> PlanRecord:
    async with asyncio.timeout(60):
        while True:
            plan = await services.approval.get(plan_id)
            if done(plan):
                return plan
            await asyncio.sleep(0.05)


async def _run_of(services: Services, plan_id: int) -> RunView:
    plan = await _until(services, plan_id, lambda p: p.steps[0].run_id is not None)
    assert plan.steps[0].run_id is not None
    run = await services.executor.get_run(plan.steps[0].run_id)
    assert run is not None
    return run


async def _paused(services: Services, run: RunView) -> RunView:
    async with asyncio.timeout(20):
        while run.status is not RunStatus.PAUSED_CAPACITY:
            await asyncio.sleep(0.05)
            found = await services.executor.get_run(run.id)
            assert found is not None
            run = found
    return run


async def test_it_runs_an_approved_step_on_the_placed_host(services: Services) -> None:
    local = await services.agents.create_token("this-box", "localhost", ["gpu"])
    box = await services.agents.create_token("gpu-box", "gpubox", ["gpu"])
    await _beat(services, local, 20_000)
    await _beat(services, box, 10_000)
    plan = await services.planner.submit(REQUEST, "ada")
    assert plan.steps[0].placement is not None and plan.steps[0].placement.host == "localhost"

    await services.approval.approve(plan.id, "bob")
    done = await _until(services, plan.id, lambda p: p.status.is_finished)

    assert done.status is PlanStatus.SUCCEEDED, done.error
    run = await _run_of(services, plan.id)
    assert run.status is RunStatus.SUCCEEDED
    assert (run.limit, run.placed_host, list(run.host_stats)) == ("localhost",) * 2 + (
        ["localhost"],
    )
    assert run.needs is not None and run.needs["hosts"] == ["localhost"]


async def test_it_runs_on_the_override_and_waits_there_for_capacity(services: Services) -> None:
    local = await services.agents.create_token("this-box", "localhost", ["gpu"])
    box = await services.agents.create_token("gpu-box", "gpubox", ["gpu"])
    await _beat(services, local, 9_000)
    await _beat(services, box, 20_000)
    plan = await services.planner.submit(REQUEST, "ada")
    assert plan.steps[0].placement is not None and plan.steps[0].placement.host == "gpubox"
    await services.approval.modify(plan.id, "bob", Modification(placements={0: "localhost"}))

    await _beat(services, local, 2_000)  # localhost's GPU is busy by the time it runs
    await services.approval.approve(plan.id, "cy")
    waiting = await _paused(services, await _run_of(services, plan.id))
    assert waiting.placement_reason is not None
    assert "localhost: best GPU has 2,000 MB VRAM free" in waiting.placement_reason
    assert "gpubox" not in waiting.placement_reason  # the person's host, not the roomiest

    await _beat(services, local, 16_000)
    finished = await services.executor.wait_for(waiting.id)

    assert finished.status is RunStatus.SUCCEEDED, finished.error
    assert (finished.limit, finished.placed_host) == ("localhost", "localhost")
    assert list(finished.host_stats) == ["localhost"]
    done = await _until(services, plan.id, lambda p: p.status.is_finished)
    assert done.status is PlanStatus.SUCCEEDED


async def test_it_places_a_step_nothing_fitted_when_a_host_has_room(services: Services) -> None:
    local = await services.agents.create_token("this-box", "localhost", ["gpu"])
    await _beat(services, local, 1_000)
    plan = await services.planner.submit(REQUEST, "ada")
    assert plan.steps[0].placement is not None and plan.steps[0].placement.host is None

    await services.approval.approve(plan.id, "bob")
    waiting = await _paused(services, await _run_of(services, plan.id))
    await _beat(services, local, 12_000)
    finished = await services.executor.wait_for(waiting.id)

    assert finished.status is RunStatus.SUCCEEDED, finished.error
    assert finished.needs is not None and finished.needs["hosts"] == ["gpubox", "localhost"]
    assert (finished.placed_host, list(finished.host_stats)) == ("localhost", ["localhost"])
