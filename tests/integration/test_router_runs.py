"""Capacity-aware runs end to end: real ansible runs on localhost, placed by agents' heartbeats."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from chiffon.app import Services, bootstrap
from chiffon.executor import RunPausedForCapacity, RunRequest, RunRequestError, RunStatus
from chiffon.executor.models import Run
from chiffon.router import Needs
from chiffon.settings import Settings
from tests._router import heartbeat_body

pytestmark = pytest.mark.slow


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:  # type: ignore[override]
    services = bootstrap(settings.with_overrides(local_agent_host="", capacity_wait_seconds=60))
    await services.start()
    yield services
    await services.stop()


async def _agent_for_localhost(services: Services) -> str:
    return await services.agents.create_token("this-box", inventory_host="localhost")


async def _report(services: Services, token: str, cores_free: float) -> None:
    body = heartbeat_body(cores_total=8, cores_free=cores_free)
    await services.agents.ingest(token, json.dumps(body).encode())


async def _status(services: Services, run_id: int, wanted: RunStatus) -> Any:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        run = await services.executor.get_run(run_id)
        if run is not None and run.status is wanted:
            return run
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} never became {wanted}")


async def test_it_runs_a_step_on_the_host_that_fits(services: Services) -> None:
    token = await _agent_for_localhost(services)
    await _report(services, token, cores_free=6)

    run = await services.executor.start_run(
        RunRequest(entry="hello.yml", needs=Needs(min_cpu_cores=2), hosts=("localhost", "nas"))
    )
    finished = await services.executor.wait_for(run.id)

    assert finished.status is RunStatus.SUCCEEDED, finished.error
    assert finished.placed_host == "localhost"
    assert finished.placement_reason is not None
    assert finished.placement_reason.startswith("localhost fits with the most headroom (6 of 8")
    assert finished.to_json()["placement"]["needs"]["hosts"] == ["localhost", "nas"]
    assert list(finished.host_stats) == ["localhost"]


async def test_it_pauses_until_a_heartbeat_shows_capacity_then_resumes(
    services: Services,
) -> None:
    paused: list[RunPausedForCapacity] = []

    async def seen(event: RunPausedForCapacity) -> None:
        paused.append(event)

    services.bus.subscribe(RunPausedForCapacity, seen)
    token = await _agent_for_localhost(services)
    await _report(services, token, cores_free=0.5)

    run = await services.executor.start_run(
        RunRequest(entry="hello.yml", needs=Needs(min_cpu_cores=2), limit="localhost")
    )
    waiting = await _status(services, run.id, RunStatus.PAUSED_CAPACITY)

    assert waiting.placement_reason == (
        "No host has 2 free cores: localhost: 0.5 cores free, needs 2."
    )
    assert [event.run_id for event in paused] == [run.id]
    await asyncio.sleep(0.5)
    assert (await services.executor.get_run(run.id)).status is RunStatus.PAUSED_CAPACITY  # type: ignore[union-attr]

    reported = time.monotonic()
    await _report(services, token, cores_free=4)
    await _status(services, run.id, RunStatus.RUNNING)
    assert time.monotonic() - reported < 2  # woken by the heartbeat, not by polling
    finished = await services.executor.wait_for(run.id)
    assert finished.status is RunStatus.SUCCEEDED, finished.error
    assert finished.placed_host == "localhost"


async def test_it_fails_a_paused_run_after_the_wait_with_the_reason(settings: Settings) -> None:
    services = bootstrap(settings.with_overrides(local_agent_host="", capacity_wait_seconds=1))
    await services.start()
    try:
        run = await services.executor.start_run(
            RunRequest(entry="hello.yml", needs=Needs(min_gpu_vram_mb=8000), hosts=("gpu.lan",))
        )
        finished = await services.executor.wait_for(run.id)
    finally:
        await services.stop()

    assert finished.status is RunStatus.FAILED
    assert finished.error == (
        "No host had the capacity this run needs within 1 s. No host has 8,000 MB free VRAM on "
        "one GPU: gpu.lan: no agent reports for this host."
    )
    assert finished.started_at is None and finished.event_count == 0


async def test_it_cancels_a_paused_run(services: Services) -> None:
    run = await services.executor.start_run(
        RunRequest(entry="hello.yml", needs=Needs(min_cpu_cores=1), hosts=("nowhere",))
    )
    await _status(services, run.id, RunStatus.PAUSED_CAPACITY)

    assert await services.executor.cancel_run(run.id)
    finished = await services.executor.wait_for(run.id)

    assert finished.status is RunStatus.CANCELLED
    assert finished.error == "Cancelled by a person."


async def test_it_refuses_needs_without_hosts(services: Services) -> None:
    with pytest.raises(RunRequestError, match="must name the hosts"):
        await services.executor.start_run(RunRequest(entry="hello.yml", needs=Needs()))
    assert await services.executor.list_runs() == []


async def test_it_interrupts_a_paused_run_whose_chiffon_died(services: Services) -> None:
    dead = await asyncio.create_subprocess_exec("true")  # a pid that runs no more
    await dead.wait()
    async with services.sessions() as session, session.begin():
        run = Run(
            correlation_id="c" * 32, entry_kind="playbook", entry_name="hello",
            entry_path="hello.yml", entry_hash="0" * 64, inventory="inventory",
            status=RunStatus.PAUSED_CAPACITY, extra_vars={}, host_stats={},
            owner=f"{socket.gethostname()}:{dead.pid}", needs={"min_cpu_cores": 1},
            placement_reason="No host has 1 free cores.",
        )  # fmt: skip
        session.add(run)

    assert await services.executor.recover() == [run.id]
    recovered = await services.executor.get_run(run.id)
    assert recovered is not None and recovered.status is RunStatus.INTERRUPTED
