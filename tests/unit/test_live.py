"""LiveRuns on a real database and the real bus: backlog then live, each event once, in order.

The tests store events and publish them the way the executor does (stored first, then
published; ``RunFinished`` after the last one), and sometimes out of that order on purpose.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import insert, update

from chiffon.app import Services
from chiffon.db import utcnow
from chiffon.executor import EventView, RunEventRecorded, RunFinished, RunStatus
from chiffon.executor.models import Run, RunEvent
from chiffon.web.live import LiveRuns


async def _new_run(services: Services) -> int:
    run = Run(
        correlation_id="c0ffee",
        entry_kind="playbook",
        entry_name="hello",
        entry_path="hello.yml",
        entry_role=None,
        entry_hash="0" * 64,
        repo_commit=None,
        inventory="inventory/hosts.yml",
        extra_vars={},
        check_mode=False,
        status=RunStatus.RUNNING,
        requested_by="test",
        host_stats={},
    )
    async with services.sessions() as session, session.begin():
        session.add(run)
    return run.id


async def _store(services: Services, run_id: int, seqs: range) -> None:
    rows: list[dict[str, Any]] = [
        {
            "run_id": run_id,
            "seq": seq,
            "type": "verbose",
            "host": None,
            "task": None,
            "stdout": f"line {seq}",
            "data": {},
            "created_at": utcnow(),
        }
        for seq in seqs
    ]
    async with services.sessions() as session, session.begin():
        await session.execute(insert(RunEvent), rows)


async def _publish(services: Services, run_id: int, seqs: range) -> None:
    for seq in seqs:
        await services.bus.publish(
            RunEventRecorded(run_id, seq, "verbose", None, None, f"line {seq}", utcnow(), "c0ffee")
        )


async def _emit(services: Services, run_id: int, seqs: range) -> None:
    await _store(services, run_id, seqs)
    await _publish(services, run_id, seqs)


async def _finish(services: Services, run_id: int) -> None:
    async with services.sessions() as session, session.begin():
        await session.execute(
            update(Run).where(Run.id == run_id).values(status=RunStatus.SUCCEEDED)
        )
    await services.bus.publish(RunFinished(run_id, "succeeded", 0, "c0ffee"))


async def _collect(stream: AsyncIterator[EventView | None]) -> list[int]:
    return [event.seq async for event in stream if event is not None]


async def _until(condition: Callable[[], bool]) -> None:
    """Wait (up to 5 s) until ``condition()`` holds: viewers subscribe inside other tasks."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in 5 s")


async def test_it_sends_backlog_then_live_events_once_in_order(services: Services) -> None:
    run_id = await _new_run(services)
    await _emit(services, run_id, range(1, 6))
    reader = asyncio.create_task(_collect(services.live.stream(run_id)))
    await _until(lambda: services.live.viewer_count == 1)
    await _emit(services, run_id, range(6, 11))
    await _finish(services, run_id)

    assert await asyncio.wait_for(reader, 5) == list(range(1, 11))
    assert services.live.viewer_count == 0


async def test_it_skips_events_it_read_from_the_backlog_and_then_got_live(
    services: Services,
) -> None:
    run_id = await _new_run(services)
    await _store(services, run_id, range(1, 4))  # stored, not yet published
    stream = services.live.stream(run_id)
    first = await anext(stream)  # subscribed, and reading the backlog
    assert first is not None and first.seq == 1
    await _publish(services, run_id, range(1, 4))  # the same events arrive live too
    await _emit(services, run_id, range(4, 6))
    await _finish(services, run_id)

    assert [1, *await _collect(stream)] == [1, 2, 3, 4, 5]


async def test_it_starts_after_the_given_sequence_number(services: Services) -> None:
    run_id = await _new_run(services)
    await _emit(services, run_id, range(1, 8))
    await _finish(services, run_id)

    assert await _collect(services.live.stream(run_id, after_seq=4)) == [5, 6, 7]


async def test_it_ends_at_once_for_a_finished_run(services: Services) -> None:
    run_id = await _new_run(services)
    await _emit(services, run_id, range(1, 4))
    await _finish(services, run_id)

    assert await asyncio.wait_for(_collect(services.live.stream(run_id)), 2) == [1, 2, 3]
    assert services.live.viewer_count == 0


async def test_it_ends_at_once_for_a_run_that_does_not_exist(services: Services) -> None:
    assert await asyncio.wait_for(_collect(services.live.stream(424242)), 2) == []


async def test_it_reads_pages_of_a_long_backlog(services: Services) -> None:
    live = LiveRuns(services.executor, page_size=7)
    run_id = await _new_run(services)
    await _store(services, run_id, range(1, 31))
    await _finish(services, run_id)

    assert await _collect(live.stream(run_id)) == list(range(1, 31))


async def test_it_drops_a_slow_viewer_back_to_the_database_without_losing_events(
    services: Services,
) -> None:
    live = LiveRuns(services.executor, queue_size=5)
    services.bus.register(live.subscriptions())
    run_id = await _new_run(services)
    stream = live.stream(run_id)
    await _emit(services, run_id, range(1, 2))
    assert (await anext(stream)) is not None  # subscribed; now it stops reading for a while

    async with asyncio.timeout(2):  # publishing never waits for the slow viewer
        await _emit(services, run_id, range(2, 60))
    await _finish(services, run_id)

    assert await _collect(stream) == list(range(2, 60))


async def test_it_serves_many_viewers_of_one_run(services: Services) -> None:
    run_id = await _new_run(services)
    await _emit(services, run_id, range(1, 51))
    readers = [asyncio.create_task(_collect(services.live.stream(run_id))) for _ in range(60)]
    await _until(lambda: services.live.viewer_count == 60)
    await _emit(services, run_id, range(51, 301))
    await _finish(services, run_id)

    results = await asyncio.wait_for(asyncio.gather(*readers), 10)
    assert all(result == list(range(1, 301)) for result in results)
    assert services.live.viewer_count == 0


async def test_it_finds_events_of_a_run_in_another_process_by_polling(
    services: Services,
) -> None:
    live = LiveRuns(services.executor, poll_s=0.05)  # not on this bus: nothing is pushed
    run_id = await _new_run(services)
    reader = asyncio.create_task(_collect(live.stream(run_id)))
    await _until(lambda: live.viewer_count == 1)
    await _store(services, run_id, range(1, 4))
    await asyncio.sleep(0.2)
    await _store(services, run_id, range(4, 6))
    async with services.sessions() as session, session.begin():
        await session.execute(update(Run).where(Run.id == run_id).values(status=RunStatus.FAILED))

    assert await asyncio.wait_for(reader, 5) == [1, 2, 3, 4, 5]


async def test_it_yields_heartbeats_when_caught_up_and_while_idle(services: Services) -> None:
    live = LiveRuns(services.executor, poll_s=0.05)
    run_id = await _new_run(services)
    await _store(services, run_id, range(1, 3))
    stream = live.stream(run_id, heartbeat=True)
    items = [await anext(stream) for _ in range(4)]

    assert [item.seq if item else None for item in items] == [1, 2, None, None]
    await stream.aclose()
    assert live.viewer_count == 0


async def test_it_ends_open_streams_on_close(services: Services) -> None:
    run_id = await _new_run(services)
    reader = asyncio.create_task(_collect(services.live.stream(run_id)))
    await _until(lambda: services.live.viewer_count == 1)
    await services.live.close()

    assert await asyncio.wait_for(reader, 2) == []


@pytest.mark.parametrize("viewers", [1, 3])
async def test_it_unsubscribes_a_viewer_that_goes_away(services: Services, viewers: int) -> None:
    run_id = await _new_run(services)
    streams = [services.live.stream(run_id) for _ in range(viewers)]
    await _emit(services, run_id, range(1, 2))
    for stream in streams:
        assert (await anext(stream)) is not None
    assert services.live.viewer_count == viewers
    for stream in streams:
        await stream.aclose()

    assert services.live.viewer_count == 0
