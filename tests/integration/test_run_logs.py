"""RunLogs (the run page's log and progress) on a real database: a finished run's events are
read once while their number stays, and read again the moment one is added."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from chiffon.app import Services
from chiffon.db import utcnow
from chiffon.executor import RunStatus
from chiffon.executor._run_page import LOG_PAGE, RunLogs
from chiffon.executor.models import Run, RunEvent


async def _run(services: Services, status: RunStatus) -> int:
    run = Run(
        correlation_id="c0ffee",
        entry_kind="playbook",
        entry_name="hello",
        entry_path="hello.yml",
        entry_hash="0" * 64,
        inventory="inventory/hosts.yml",
        extra_vars={},
        status=status,
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
            "type": "playbook_on_task_start" if seq % 2 else "runner_on_ok",
            "host": None if seq % 2 else "localhost",
            "task": f"Task {(seq + 1) // 2}",
            "stdout": f"line {seq}",
            "data": {},
            "created_at": utcnow(),
        }
        for seq in seqs
    ]
    async with services.sessions() as session, session.begin():
        await session.execute(insert(RunEvent), rows)


async def test_it_reads_a_finished_runs_log_again_only_when_an_event_was_added(
    services: Services,
) -> None:
    run_id = await _run(services, RunStatus.SUCCEEDED)
    await _store(services, run_id, range(1, 5))
    logs = RunLogs()
    run = await services.executor.get_run(run_id)
    assert run is not None

    log, progress = await logs.read(services.executor, run)
    again, _ = await logs.read(services.executor, run)
    assert [line.stdout for line in log] == ["line 1", "line 2", "line 3", "line 4"]
    assert again is log, "the same events are not read twice"
    assert [task.name for task in progress.tasks] == ["Task 1", "Task 2"]

    await _store(services, run_id, range(5, 7))
    log, progress = await logs.read(services.executor, run)
    assert [line.seq for line in log] == [1, 2, 3, 4, 5, 6]
    assert [task.name for task in progress.tasks] == ["Task 1", "Task 2", "Task 3"]


async def test_it_shows_the_first_page_of_a_long_run_with_the_progress_of_all(
    services: Services,
) -> None:
    run_id = await _run(services, RunStatus.FAILED)
    await _store(services, run_id, range(1, LOG_PAGE + 301))
    run = await services.executor.get_run(run_id)
    assert run is not None

    log, progress = await RunLogs().read(services.executor, run)

    assert len(log) == LOG_PAGE and log[-1].seq == LOG_PAGE
    assert len(progress.tasks) == (LOG_PAGE + 300) // 2


async def test_it_reads_a_running_runs_log_every_time(services: Services) -> None:
    run_id = await _run(services, RunStatus.RUNNING)
    await _store(services, run_id, range(1, 3))
    logs = RunLogs()
    run = await services.executor.get_run(run_id)
    assert run is not None

    first, _ = await logs.read(services.executor, run)
    second, _ = await logs.read(services.executor, run)

    assert first == second and first is not second
