"""The executor running real playbooks on localhost through ansible-runner, on both databases."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from chiffon.app import Services
from chiffon.executor import RunEventRecorded, RunRequest, RunRequestError, RunStatus
from chiffon.executor.models import Run
from chiffon.lib import proctree
from tests._runs import wait_for_task_start

pytestmark = pytest.mark.slow


async def _run(services: Services, entry: str, **kwargs: Any) -> Any:
    run = await services.executor.start_run(RunRequest(entry=entry, **kwargs))
    await services.executor.wait_for(run.id)
    return await services.executor.get_run(run.id)


async def _run_count(services: Services) -> int:
    async with services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Run)) or 0)


async def test_it_runs_a_playbook_and_records_every_event_in_order(services: Services) -> None:
    published: list[int] = []

    async def seen(event: RunEventRecorded) -> None:
        published.append(event.seq)

    services.bus.subscribe(RunEventRecorded, seen)
    run = await _run(services, "hello.yml")

    assert run.status is RunStatus.SUCCEEDED
    assert run.rc == 0
    events = await services.executor.list_events(run.id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert published == [e.seq for e in events]
    assert run.event_count == len(events)
    assert events[0].type == "playbook_on_start"
    assert events[-1].type == "playbook_on_stats"
    tasks = [e.task for e in events if e.type == "playbook_on_task_start"]
    assert tasks == ["Greet", "Show the portals", "Run a harmless command"]
    oks = [e for e in events if e.type == "runner_on_ok"]
    assert oks and all(e.data["changed"] is False for e in oks)
    assert run.host_stats["localhost"]["ok"] >= 3
    assert run.host_stats["localhost"]["failures"] == 0
    assert run.started_at and run.finished_at and run.finished_at >= run.started_at
    assert run.audit_commit and len(run.audit_commit) == 40
    lines = await services.executor.list_log(run.id)
    assert [(e.seq, e.type, e.host, e.task, e.stdout) for e in events] == [
        (line.seq, line.type, line.host, line.task, line.stdout) for line in lines
    ]
    page = await services.executor.list_log(run.id, after_seq=2, limit=3)
    assert [line.seq for line in page] == [3, 4, 5]


async def test_it_marks_a_failing_playbook_failed_with_its_rc(services: Services) -> None:
    run = await _run(services, "fail.yml")

    assert run.status is RunStatus.FAILED
    assert run.rc not in (None, 0)
    assert run.host_stats["localhost"]["failures"] == 1
    events = await services.executor.list_events(run.id)
    failed = [e for e in events if e.type == "runner_on_failed"]
    assert failed and failed[0].host == "localhost"
    path, _, line = failed[0].data["task_path"].rpartition(":")
    assert path.endswith("fail.yml") and line.isdigit()


async def test_it_runs_a_role_and_a_tag_of_the_site_playbook(services: Services) -> None:
    role = await _run(services, "role:common")
    tag = await _run(services, "tag:web")

    assert role.status is RunStatus.SUCCEEDED, role.error
    assert role.entry_kind == "role"
    assert tag.status is RunStatus.SUCCEEDED, tag.error
    assert (tag.entry_kind, tag.entry_path) == ("tag", "site.yml")
    tag_tasks = {e.task for e in await services.executor.list_events(tag.id) if e.task}
    role_tasks = {e.task for e in await services.executor.list_events(role.id) if e.task}
    assert tag_tasks and not tag_tasks & role_tasks


async def test_it_passes_extra_vars_and_keeps_secrets_out_of_storage(services: Services) -> None:
    run = await _run(
        services,
        "vars-demo.yml",
        extra_vars={"app_name": "Bonjour", "admin_password": "hunter2-very-secret"},
    )

    assert run.status is RunStatus.SUCCEEDED, run.error
    assert run.extra_vars["app_name"] == "Bonjour"
    assert run.extra_vars["admin_password"] == "********"
    assert run.extra_vars["release"] == "1.0"  # the vars_prompt default, answered for it
    events = await services.executor.list_events(run.id)
    text = "".join(e.stdout + str(e.data) for e in events)
    assert "Bonjour" in text
    assert "hunter2-very-secret" not in text


async def test_it_cancels_the_whole_process_tree_within_a_second(services: Services) -> None:
    run = await services.executor.start_run(RunRequest(entry="slow.yml"))
    await wait_for_task_start(services, run.id, "Sleep", timeout_s=30)
    await asyncio.sleep(0.5)  # let `sleep 30` spawn
    assert proctree.marked_processes("CHIFFON_RUN", run.correlation_id)

    started = time.monotonic()
    assert await services.executor.cancel_run(run.id)
    while proctree.marked_processes("CHIFFON_RUN", run.correlation_id):
        assert time.monotonic() - started < 1.0, "processes of the run still alive after 1 s"
        await asyncio.sleep(0.02)
    finished = await services.executor.wait_for(run.id)

    assert finished.status is RunStatus.CANCELLED
    assert finished.error == "Cancelled by a person."


@pytest.mark.parametrize(
    ("entry", "inventory", "message"),
    [
        ("no-such-playbook", None, "no-such-playbook"),
        ("../../etc/passwd", None, "inside"),
        ("/etc/passwd", None, "inside"),
        ("broken.yml", None, "cannot run"),
        ("hello.yml", "missing/hosts.yml", "does not exist"),
    ],
)
async def test_it_refuses_a_bad_request_and_stores_nothing(
    services: Services, entry: str, inventory: str | None, message: str
) -> None:
    with pytest.raises(RunRequestError, match=message):
        await services.executor.start_run(RunRequest(entry=entry, inventory=inventory))
    assert await _run_count(services) == 0


async def test_it_fails_clearly_on_an_inventory_that_does_not_parse(services: Services) -> None:
    bad = services.settings.playbooks_dir / "bad-inventory.yml"
    bad.write_text("all: [this is: not, an: inventory\n")

    run = await _run(services, "hello.yml", inventory=str(bad))

    assert run.status is RunStatus.FAILED
    log = "".join(e.stdout for e in await services.executor.list_events(run.id))
    assert "inventory" in log.lower()


async def test_it_interrupts_runs_whose_process_died(services: Services) -> None:
    async with services.sessions() as session, session.begin():
        session.add(
            Run(
                correlation_id="c" * 32,
                entry_kind="playbook",
                entry_name="hello.yml",
                entry_path="hello.yml",
                entry_hash="0" * 64,
                inventory="inventory/hosts.yml",
                status=RunStatus.RUNNING,
                owner=f"{socket.gethostname()}:999999999",
                extra_vars={},
                host_stats={},
            )
        )
        session.add(
            Run(
                correlation_id="d" * 32,
                entry_kind="playbook",
                entry_name="hello.yml",
                entry_path="hello.yml",
                entry_hash="0" * 64,
                inventory="inventory/hosts.yml",
                status=RunStatus.RUNNING,
                owner="another-host:1",
                extra_vars={},
                host_stats={},
            )
        )

    recovered = await services.executor.recover()

    assert len(recovered) == 1
    run = await services.executor.get_run(recovered[0])
    assert run is not None and run.status is RunStatus.INTERRUPTED
    assert run.audit_commit is not None
    others = [r for r in await services.executor.list_runs() if r.id not in recovered]
    assert [r.status for r in others] == [RunStatus.RUNNING]


async def test_it_fails_a_run_whose_limit_matches_no_host(services: Services) -> None:
    run = await _run(services, "hello.yml", limit="no-such-host")

    assert run.status is RunStatus.FAILED
    log = "".join(e.stdout for e in await services.executor.list_events(run.id))
    assert "no hosts" in log.lower()


async def test_it_fails_a_run_whose_hosts_pattern_matches_nothing(services: Services) -> None:
    # ansible-playbook itself exits 0 here ("skipping: no hosts matched").
    playbook = services.settings.playbooks_dir / "nowhere.yml"
    playbook.write_text(
        "- name: Nowhere\n  hosts: no_such_group\n  gather_facts: false\n  tasks:\n"
        "    - name: Never\n      ansible.builtin.debug:\n        msg: never\n"
    )
    await services.catalog.scan()

    run = await _run(services, "nowhere.yml")

    assert run.status is RunStatus.FAILED
    assert run.rc == 0
    assert "No host matched" in (run.error or "")


async def test_it_marks_runs_interrupted_when_the_service_stops(services: Services) -> None:
    run = await services.executor.start_run(RunRequest(entry="slow.yml"))
    deadline = time.monotonic() + 30
    while not any(e.task == "Sleep" for e in await services.executor.list_events(run.id)):
        assert time.monotonic() < deadline, "the sleep task never started"
        await asyncio.sleep(0.1)

    await services.executor.stop()

    stopped = await services.executor.get_run(run.id)
    assert stopped is not None and stopped.status is RunStatus.INTERRUPTED
    assert stopped.error == "Chiffon was stopped during this run."
    assert proctree.marked_processes("CHIFFON_RUN", run.correlation_id) == set()


async def test_it_keeps_facts_where_the_repos_ansible_cfg_says(services: Services) -> None:
    # ansible-runner's own default would send them to JSON files in the run's scratch dir.
    repo = services.settings.playbooks_dir
    facts = repo.parent / "facts"
    config = repo / "ansible.cfg"
    config.write_text(
        config.read_text().replace(
            "[defaults]\n",
            f"[defaults]\nfact_caching = jsonfile\nfact_caching_connection = {facts}\n",
        )
    )
    (repo / "remember.yml").write_text(
        "- name: Remember\n  hosts: homelab\n  gather_facts: false\n  tasks:\n"
        "    - name: Cache a fact\n      ansible.builtin.set_fact:\n"
        "        chiffon_colour: blue\n        cacheable: true\n"
    )
    await services.catalog.scan()

    run = await _run(services, "remember.yml")

    assert run.status is RunStatus.SUCCEEDED, run.error
    cached = "".join(path.read_text() for path in facts.iterdir())  # a file per host
    assert "chiffon_colour" in cached and "blue" in cached
