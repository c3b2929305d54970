"""``chiffon run``'s head start: ansible-playbook started ahead, held, then let go or stopped.

Real ansible-playbook runs through ansible-runner on localhost. The playbook used appends a
line to a file, so "nothing ran" and "ran exactly once" are read from that file.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from chiffon._cli_run import head_start, run_request
from chiffon.app import Services
from chiffon.cli import _parser
from chiffon.executor import RunRequest, RunRequestError, RunStatus
from chiffon.executor import headstart as hs
from chiffon.executor.runner import (
    HOLD_SOCKET,
    RUN_MARKER,
    RunnerEvent,
    RunnerJob,
    held_command_found,
    run_job,
    write_held_command,
)
from chiffon.lib import proctree
from chiffon.lib.extravars import parse_extra_vars
from chiffon.settings import Settings
from tests._runs import MARK, wait_for_task_start

pytestmark = pytest.mark.slow

NOT_RELEASED = 75  # how held_playbook.py ends an ansible-playbook it was not let go
UNREVIEWED = "# chiffon:\n#   generated: true\n#   description: written by Chiffon\n---\n" + MARK


@pytest.fixture
def repo(sample_repo: Path) -> Path:
    (sample_repo / "mark.yml").write_text(MARK)
    return sample_repo


def _guess(repo: Path, tmp_path: Path, entry: str = "mark.yml", **extra: Any) -> RunnerJob:
    job = hs.guess_job(repo, tmp_path / "runs", entry, extra_vars=extra)
    assert job is not None
    return job


def _begin(job: RunnerJob) -> hs.HeadStart:
    head = hs.begin(job)
    assert head is not None
    return head


def _ignore(event: RunnerEvent) -> None:
    pass


def _none_left(marker: str) -> bool:
    deadline = time.monotonic() + 5
    while proctree.marked_processes(RUN_MARKER, marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_it_holds_the_playbook_until_released_then_runs_it_once_with_every_event(
    repo: Path, tmp_path: Path
) -> None:
    mark = tmp_path / "mark.txt"
    head = _begin(_guess(repo, tmp_path, mark_file=str(mark)))
    assert head.held.wait(60), "ansible-playbook never reached the hold"
    time.sleep(0.5)  # held: however long Chiffon takes, nothing runs
    assert not mark.exists()
    assert proctree.marked_processes(RUN_MARKER, head.marker), "ansible-playbook is not waiting"

    events: list[RunnerEvent] = []
    outcome = head.release(events.append).result(timeout=120)
    head.close()

    assert outcome.status == "successful", outcome
    assert outcome.rc == 0
    assert mark.read_text() == "ran\n"
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].type == "playbook_on_start"
    assert events[-1].type == "playbook_on_stats"
    assert "Append a line" in [e.task for e in events if e.type == "playbook_on_task_start"]
    assert not head.job.private_data_dir.exists()
    assert head.job.hold is not None and not head.job.hold.exists()
    assert _none_left(head.marker)


def test_nothing_of_the_repo_is_read_or_run_while_it_is_held(repo: Path, tmp_path: Path) -> None:
    # Each of these runs code of the repo's as ansible-playbook starts, before any play: a
    # callback plugin beside the playbook, an inventory script, a lookup in a template that
    # names an imported file, a vault password script and a cowsay named in ansible.cfg.
    marks = tmp_path / "marks.txt"
    (repo / "callback_plugins").mkdir()
    (repo / "callback_plugins" / "loud.py").write_text(
        f"open({str(marks)!r}, 'a').write('callback\\n')\n"
        "from ansible.plugins.callback import CallbackBase\n\n\n"
        "class CallbackModule(CallbackBase):\n    CALLBACK_NAME = 'loud'\n"
    )
    script = repo / "inventory.sh"
    script.write_text(
        f"#!/bin/sh\necho inventory >> {marks}\n"
        'echo \'{"homelab": {"hosts": ["localhost"]}, "_meta": {"hostvars": '
        '{"localhost": {"ansible_connection": "local"}}}}\'\n'
    )
    script.chmod(0o755)
    vault = repo / "vault-pass.sh"
    vault.write_text(f"#!/bin/sh\necho vault >> {marks}\necho secret\n")
    vault.chmod(0o755)
    cow = repo / "cow.sh"  # ansible runs `cowpath -l` as it loads: Chiffon turns cows off
    cow.write_text(f"#!/bin/sh\necho cow >> {marks}\n")
    cow.chmod(0o755)
    config = repo / "ansible.cfg"
    config.write_text(
        config.read_text() + "vault_password_file = vault-pass.sh\ncowpath = ./cow.sh\n"
    )
    (repo / "t.yml").write_text("- name: Imported\n  ansible.builtin.debug:\n    msg: imported\n")
    lookup = "{{ lookup('pipe', 'echo lookup >> " + str(marks) + "') }}"
    (repo / "loaded.yml").write_text(
        "- name: Load time\n  hosts: homelab\n  gather_facts: false\n  tasks:\n"
        f'    - ansible.builtin.import_tasks: "t{lookup}.yml"\n'
    )
    job = hs.guess_job(repo, tmp_path / "runs", "loaded.yml", inventory="inventory.sh")
    assert job is not None
    head = _begin(job)

    assert head.held.wait(60)
    time.sleep(1.0)
    assert not marks.exists(), marks.read_text()
    outcome = head.release(_ignore).result(timeout=120)
    head.close()

    assert outcome.status == "successful", outcome
    assert set(marks.read_text().split()) == {"callback", "inventory", "lookup", "vault"}


@pytest.mark.parametrize("when", ["held", "at once"])
def test_an_aborted_head_start_runs_nothing_and_leaves_nothing(
    repo: Path, tmp_path: Path, when: str
) -> None:
    mark = tmp_path / "mark.txt"
    head = _begin(_guess(repo, tmp_path, mark_file=str(mark)))
    if when == "held":
        assert head.held.wait(60)
    head.abort()
    head.close()

    outcome = head.outcome.result(timeout=10)
    assert outcome.status != "successful"
    assert not mark.exists()
    assert _none_left(head.marker)
    assert not head.job.private_data_dir.exists()
    assert head.job.hold is not None and not head.job.hold.exists()
    events: list[RunnerEvent] = []
    head.release(events.append)  # too late: nothing more comes, nothing ran
    assert not mark.exists()


def test_a_hold_nobody_lets_go_lets_nothing_through(repo: Path, tmp_path: Path) -> None:
    mark = tmp_path / "mark.txt"
    job = _guess(repo, tmp_path, mark_file=str(mark))
    hung_up, nobody = tmp_path / "hung-up", tmp_path / "nobody"
    for folder in (hung_up, nobody):
        folder.mkdir()
        write_held_command(folder)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(hung_up / HOLD_SOCKET))
        listener.listen(1)

        def hang_up() -> None:  # a Chiffon that answers, then goes away without a word
            connection, _ = listener.accept()
            connection.close()

        threading.Thread(target=hang_up, daemon=True).start()
        answered = run_job(replace(job, hold=hung_up), _ignore, threading.Event())
    silent = run_job(replace(job, hold=nobody), _ignore, threading.Event())

    assert (answered.rc, silent.rc) == (NOT_RELEASED, NOT_RELEASED)
    assert not mark.exists()


def test_a_held_command_the_path_would_not_find_is_not_used(tmp_path: Path) -> None:
    # On a noexec mount the held ansible-playbook is passed over for the real one, unheld.
    folder = tmp_path / "held"
    folder.mkdir()
    assert write_held_command(folder)
    (folder / "ansible-playbook").chmod(0o600)

    assert not held_command_found(folder)


def test_it_guesses_only_a_playbook_file_in_the_repo_with_an_inventory_it_accepts(
    repo: Path, tmp_path: Path
) -> None:
    def guess(entry: str, inventory: str | None = None, configured: str = "") -> str | None:
        job = hs.guess_job(
            repo, tmp_path / "runs", entry, inventory=inventory, configured_inventory=configured
        )
        return None if job is None else f"{job.playbook} @ {job.inventory}"

    outside = tmp_path / "outside.yml"
    outside.write_text(MARK)
    (repo / "escape.yml").symlink_to(outside)
    default = str(repo / "inventory" / "hosts.yml")

    assert guess("mark.yml") == f"mark.yml @ {default}"  # ansible.cfg's inventory
    assert guess("./mark.yml") == f"mark.yml @ {default}"
    assert guess("mark") == f"mark.yml @ {default}"
    assert guess("mark.yml", "inventory") == f"mark.yml @ {repo / 'inventory'}"
    for refused in ("role:common", "tag:web", "common", "nope", "../x.yml", "/etc/passwd", ""):
        assert guess(refused) is None, refused
    assert guess("escape.yml") is None  # a symlink out of the repo
    assert guess("mark.yml", "missing.yml") is None
    assert guess("mark.yml", str(tmp_path)) is None  # -i outside the repo is refused
    assert guess("mark.yml", configured=str(tmp_path)) == f"mark.yml @ {tmp_path}"
    (repo / "ansible.cfg").unlink()
    (repo / "inventory" / "hosts.yml").unlink()
    (repo / "inventory").rmdir()
    assert guess("mark.yml") is None  # no inventory anywhere: the executor will say so


# -- adopted by the executor (both databases) ------------------------------------------------


async def test_the_executor_adopts_the_head_start_of_the_run_it_was_asked_for(
    services: Services, repo: Path, tmp_path: Path
) -> None:
    await services.catalog.scan()  # mark.yml came after the services' start
    mark = tmp_path / "mark.txt"
    head = _begin(_guess(repo, tmp_path, mark_file=str(mark)))
    run = await services.executor.start_run(
        RunRequest(entry="mark.yml", extra_vars={"mark_file": str(mark)}), head_start=head
    )
    finished = await services.executor.wait_for(run.id)
    head.close()

    assert finished.status is RunStatus.SUCCEEDED, finished.error
    assert finished.correlation_id == head.marker
    assert mark.read_text() == "ran\n"
    events = await services.executor.list_events(run.id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert finished.event_count == len(events)
    assert events[0].type == "playbook_on_start" and events[-1].type == "playbook_on_stats"
    assert finished.host_stats["localhost"]["changed"] == 1
    assert finished.audit_commit


async def test_the_executor_aborts_a_head_start_of_another_job_and_runs_the_one_asked(
    services: Services, repo: Path, tmp_path: Path
) -> None:
    await services.catalog.scan()
    guessed, asked = tmp_path / "guessed.txt", tmp_path / "asked.txt"
    head = _begin(_guess(repo, tmp_path, mark_file=str(guessed)))
    run = await services.executor.start_run(
        RunRequest(entry="mark.yml", extra_vars={"mark_file": str(asked)}), head_start=head
    )
    finished = await services.executor.wait_for(run.id)
    head.close()

    assert finished.status is RunStatus.SUCCEEDED, finished.error
    assert finished.correlation_id != head.marker
    assert asked.read_text() == "ran\n"
    assert not guessed.exists()
    assert _none_left(head.marker)


async def test_a_refused_request_stops_its_head_start_before_anything_ran(
    services: Services, repo: Path, tmp_path: Path
) -> None:
    (repo / "drafted.yml").write_text(UNREVIEWED)
    await services.catalog.scan()
    mark = tmp_path / "mark.txt"
    head = _begin(_guess(repo, tmp_path, "drafted.yml", mark_file=str(mark)))

    with pytest.raises(RunRequestError, match="nobody has reviewed it"):
        await services.executor.start_run(
            RunRequest(entry="drafted.yml", extra_vars={"mark_file": str(mark)}),
            head_start=head,
        )
    head.close()

    assert not mark.exists()
    assert await services.executor.list_runs() == []
    assert _none_left(head.marker)


async def test_an_adopted_run_cancels_like_any_other(
    services: Services, repo: Path, tmp_path: Path
) -> None:
    head = _begin(_guess(repo, tmp_path, "slow.yml"))
    run = await services.executor.start_run(RunRequest(entry="slow.yml"), head_start=head)
    await wait_for_task_start(services, run.id, "Sleep")
    started = time.monotonic()
    assert await services.executor.cancel_run(run.id)
    finished = await services.executor.wait_for(run.id)
    head.close()

    assert finished.status is RunStatus.CANCELLED
    assert time.monotonic() - started < 5
    assert _none_left(head.marker)


@pytest.mark.parametrize(
    "words",
    [
        ["mark"],
        ["./mark.yml", "-i", "inventory/hosts.yml", "--limit", "localhost"],
        ["mark.yml", "--tags", "never-tagged", "-e", '{"extra": [1, 2]}'],
        ["mark.yml", "--check"],
    ],
    ids=["name", "path-inventory-limit", "tags-json-vars", "check"],
)
async def test_what_chiffon_run_starts_ahead_is_the_run_it_asks_for(
    services: Services, settings: Settings, repo: Path, tmp_path: Path, words: list[str]
) -> None:
    await services.catalog.scan()
    mark = tmp_path / "mark.txt"
    args = _parser().parse_args(["run", *words, "-e", f"mark_file={mark}"])
    extra_vars = parse_extra_vars(args.extra_vars, base_dir=tmp_path)

    head = head_start(settings, args, extra_vars)
    assert head is not None
    run = await services.executor.start_run(run_request(args, extra_vars), head_start=head)
    finished = await services.executor.wait_for(run.id)
    head.close()

    assert finished.correlation_id == head.marker, "the head start was not adopted"
    # A tag no task has leaves nothing run, which Chiffon calls a failure; check mode skips
    # the shell task.
    assert finished.status is (RunStatus.FAILED if args.tags else RunStatus.SUCCEEDED)
    assert mark.exists() == (not args.check and not args.tags)
