"""The audit trail on SQLite and PostgreSQL, with a real git repo and the real git CLI.

The executor is a small stand-in holding real ``RunView`` values: the audit module reads runs
only through the executor's public service, so these tests can set any run up directly.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from chiffon.audit import AuditService, RunAudited, record_path, run_record
from chiffon.audit.handlers import subscriptions
from chiffon.audit.models import AuditRecord
from chiffon.audit.repo import AuditRepo
from chiffon.audit.service import AUTHOR, record_bytes
from chiffon.bus import EventBus
from chiffon.db import SessionFactory
from chiffon.executor import EventView, RunFinished, RunStatus, RunView

T0 = dt.datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)


def make_run(run_id: int, **changes: Any) -> RunView:
    run = RunView(
        id=run_id,
        correlation_id=f"corr{run_id:04d}",
        entry_kind="playbook",
        entry_name="hello.yml",
        entry_path="hello.yml",
        entry_role=None,
        entry_hash="ab" * 32,
        repo_commit="c0ffee" + "0" * 34,
        inventory="inventory/hosts.ini",
        limit=None,
        tags=None,
        extra_vars={"greeting": "hi"},
        check_mode=False,
        status=RunStatus.SUCCEEDED,
        rc=0,
        host_stats={"localhost": {"ok": 2, "changed": 1, "failures": 0}},
        error=None,
        requested_by="cli",
        event_count=12,
        audit_commit=None,
        created_at=T0,
        started_at=T0 + dt.timedelta(seconds=1),
        finished_at=T0 + dt.timedelta(seconds=3, microseconds=500000),
    )
    return dataclasses.replace(run, **changes)


class Runs:
    """The executor's read side, in memory; stores audit commits the way its handler does."""

    def __init__(self, *runs: RunView) -> None:
        self.runs = {run.id: run for run in runs}

    def change(self, run_id: int, **changes: Any) -> None:
        self.runs[run_id] = dataclasses.replace(self.runs[run_id], **changes)

    async def get_run(self, run_id: int) -> RunView | None:
        await asyncio.sleep(0)  # a real read yields to the loop; let racing claimants interleave
        return self.runs.get(run_id)

    async def finished_runs_without_audit(self) -> list[int]:
        return sorted(
            run.id
            for run in self.runs.values()
            if run.status.is_finished and run.audit_commit is None
        )

    async def finished_runs(self) -> list[RunView]:
        return sorted(
            (run for run in self.runs.values() if run.status.is_finished), key=lambda r: r.id
        )

    async def list_events(
        self, run_id: int, after_seq: int = 0, limit: int = 1000
    ) -> list[EventView]:
        return []

    async def when_run_audited_store_commit(self, event: RunAudited) -> None:
        self.change(event.run_id, audit_commit=event.commit_sha)


class Trail:
    """An audit service wired to a bus and the stand-in executor, plus what it published."""

    def __init__(self, session_factory: SessionFactory, audit_dir: Path, runs: Runs) -> None:
        self.bus = EventBus()
        self.runs = runs
        self.audited: list[RunAudited] = []
        self.service = AuditService(session_factory, audit_dir, self.bus, runs)
        self.bus.register(subscriptions(self.service))
        self.bus.register({RunAudited: [runs.when_run_audited_store_commit, self.record]})

    async def record(self, event: RunAudited) -> None:
        self.audited.append(event)

    async def finish(self, run_id: int) -> None:
        run = self.runs.runs[run_id]
        await self.bus.publish(RunFinished(run.id, str(run.status), run.rc, run.correlation_id))


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        [
            "git",
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-C",
            str(repo),
            *args,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def is_there(path: Path) -> bool:
    return path.exists()


def replace_with_another_repo(path: Path) -> None:
    shutil.rmtree(path)
    path.mkdir()
    git(path, "init", "-q")
    (path / "README").write_text("a different repo\n")
    git(path, "add", "README")
    git(path, "commit", "-q", "-m", "impostor")


async def audit_rows(session_factory: SessionFactory) -> list[AuditRecord]:
    async with session_factory() as session:
        return list(await session.scalars(select(AuditRecord).order_by(AuditRecord.subject_id)))


@pytest.fixture
def audit_dir(tmp_path: Path) -> Path:
    return tmp_path / "data" / "audit"


async def test_it_commits_a_finished_run_and_publishes_its_sha(
    session_factory: SessionFactory, audit_dir: Path
) -> None:
    trail = Trail(session_factory, audit_dir, Runs(make_run(12)))

    await trail.finish(12)

    sha = trail.runs.runs[12].audit_commit
    assert sha is not None
    assert trail.audited == [RunAudited(12, sha, "corr0012")]
    assert git(audit_dir, "log", "--format=%H %s") == f"{sha} run 12: hello.yml succeeded\n"
    assert git(audit_dir, "log", "-1", "--format=%an <%ae>") == AUTHOR + "\n"
    trailer = git(audit_dir, "log", "-1", "--format=%(trailers:key=Correlation-Id,valueonly)")
    assert trailer.strip() == "corr0012"
    committed = git(audit_dir, "show", f"{sha}:.audit/runs/12.json")
    assert committed == record_bytes(run_record(trail.runs.runs[12])).decode()
    [row] = await audit_rows(session_factory)
    assert (row.subject, row.subject_id, row.path) == ("run", 12, ".audit/runs/12.json")
    assert row.commit_sha == sha
    assert row.committed_at is not None


async def test_it_writes_the_record_the_issue_asks_for(
    session_factory: SessionFactory, audit_dir: Path
) -> None:
    run = make_run(3, status=RunStatus.FAILED, rc=2, error="task failed", limit="web", tags="x")
    trail = Trail(session_factory, audit_dir, Runs(run))

    await trail.finish(3)

    sha = trail.runs.runs[3].audit_commit
    text = git(audit_dir, "show", f"{sha}:{record_path(3)}")
    record = json.loads(text)
    assert text.endswith("}\n")
    assert text == json.dumps(record, sort_keys=True, indent=2) + "\n"
    assert record["entry"] == {
        "kind": "playbook",
        "name": "hello.yml",
        "path": "hello.yml",
        "role": None,
        "content_hash": "ab" * 32,
    }
    assert record["timings"] == {
        "created_at": "2025-03-01T12:00:00.123456+00:00",
        "started_at": "2025-03-01T12:00:01.123456+00:00",
        "finished_at": "2025-03-01T12:00:03.623456+00:00",
        "duration_s": 2.5,
    }
    assert (record["run_id"], record["status"], record["rc"]) == (3, "failed", 2)
    assert (record["limit"], record["tags"], record["error"]) == ("web", "x", "task failed")
    assert record["correlation_id"] == "corr0003"
    assert record["repo_commit"] == run.repo_commit
    assert record["host_stats"] == run.host_stats
    assert (record["event_count"], record["requested_by"]) == (12, "cli")
    assert "audit_commit" not in record


def test_it_redacts_secret_looking_vars_again() -> None:
    extra_vars = {
        "user": "bob",
        "db_password": "hunter2",
        "API_Token": "t0k",
        "ssh_key": "----",
        "vault_pass": "v",
        "cloud": {"credentials_file": "/x", "region": "eu", "nested": [{"secret": "s"}]},
    }

    record = run_record(make_run(1, extra_vars=extra_vars))

    assert record["extra_vars"] == {
        "user": "bob",
        "db_password": "********",
        "API_Token": "********",
        "ssh_key": "********",
        "vault_pass": "********",
        "cloud": {
            "credentials_file": "********",
            "region": "eu",
            "nested": [{"secret": "********"}],
        },
    }


@pytest.mark.parametrize("claimants", ["one service", "two services"])
async def test_it_commits_once_when_claimants_race(
    session_factory: SessionFactory, audit_dir: Path, claimants: str
) -> None:
    runs = Runs(make_run(5))
    first = Trail(session_factory, audit_dir, runs)
    second = first if claimants == "one service" else Trail(session_factory, audit_dir, runs)
    event = RunFinished(5, "succeeded", 0, "corr0005")

    await asyncio.gather(
        first.service.when_run_finished_commit(event),
        second.service.when_run_finished_commit(event),
    )

    assert git(audit_dir, "rev-list", "--count", "HEAD") == "1\n"
    [row] = await audit_rows(session_factory)
    assert row.commit_sha == git(audit_dir, "rev-parse", "HEAD").strip()
    assert runs.runs[5].audit_commit == row.commit_sha


async def test_it_gives_back_the_claim_of_a_run_that_is_not_finished(
    session_factory: SessionFactory, audit_dir: Path
) -> None:
    trail = Trail(session_factory, audit_dir, Runs(make_run(8, status=RunStatus.RUNNING)))

    await trail.service.when_run_finished_commit(RunFinished(8, "running", None, "corr0008"))

    assert await audit_rows(session_factory) == []
    assert not is_there(audit_dir)
    assert trail.audited == []


async def test_it_commits_what_a_crash_left_at_start_up(
    session_factory: SessionFactory, audit_dir: Path
) -> None:
    # Run 1 finished while nothing was listening; run 2's claim lost its process before the
    # commit; run 3 was committed but the crash came before the run stored the sha.
    runs = Runs(make_run(1), make_run(2), make_run(3), make_run(4, status=RunStatus.QUEUED))
    trail = Trail(session_factory, audit_dir, runs)
    await trail.finish(3)
    sha3 = runs.runs[3].audit_commit
    runs.change(3, audit_commit=None)
    async with session_factory() as session:
        await session.execute(
            insert(AuditRecord).values(
                subject="run", subject_id=2, path=record_path(2), correlation_id="corr0002"
            )
        )
        await session.commit()

    handled = await trail.service.commit_pending()

    assert handled == [1, 2, 3]
    assert runs.runs[3].audit_commit == sha3
    assert git(audit_dir, "rev-list", "--count", "HEAD") == "3\n"
    rows = await audit_rows(session_factory)
    assert [(row.subject_id, row.commit_sha) for row in rows] == [
        (run_id, runs.runs[run_id].audit_commit) for run_id in (1, 2, 3)
    ]
    assert await trail.service.commit_pending() == []
    assert (await trail.service.verify()).ok


async def committed_trail(session_factory: SessionFactory, audit_dir: Path) -> Trail:
    trail = Trail(session_factory, audit_dir, Runs(make_run(1), make_run(2), make_run(3)))
    for run_id in (1, 2, 3):
        await trail.finish(run_id)
    return trail


async def test_it_verifies_a_good_trail(session_factory: SessionFactory, audit_dir: Path) -> None:
    trail = await committed_trail(session_factory, audit_dir)

    report = await trail.service.verify()

    assert report.ok
    assert (report.checked, report.problems) == (3, [])


async def test_it_names_a_run_changed_behind_its_back(
    session_factory: SessionFactory, audit_dir: Path
) -> None:
    trail = await committed_trail(session_factory, audit_dir)
    trail.runs.change(2, status=RunStatus.FAILED, rc=2, host_stats={"localhost": {"ok": 9}})

    report = await trail.service.verify()

    assert not report.ok
    sha = trail.runs.runs[2].audit_commit
    assert report.problems == [
        f"run 2: .audit/runs/2.json in audit commit {sha} differs from the database: "
        "host_stats.localhost.changed (not in the database), "
        "host_stats.localhost.failures (not in the database), host_stats.localhost.ok, "
        "rc, status"
    ]


async def test_it_names_a_run_without_a_commit(
    session_factory: SessionFactory, audit_dir: Path
) -> None:
    trail = await committed_trail(session_factory, audit_dir)
    trail.runs.runs[4] = make_run(4, status=RunStatus.CANCELLED)
    trail.runs.runs[5] = make_run(5, status=RunStatus.RUNNING)  # not finished: not checked

    report = await trail.service.verify()

    assert report.checked == 4
    assert report.problems == [
        "run 4: no audit commit (cancelled at 2025-03-01T12:00:03.623456+00:00)"
    ]


async def test_it_names_every_run_when_the_repo_was_replaced(
    session_factory: SessionFactory, audit_dir: Path
) -> None:
    trail = await committed_trail(session_factory, audit_dir)
    replace_with_another_repo(audit_dir)

    report = await trail.service.verify()

    assert report.problems == [
        f"run {run_id}: audit commit {trail.runs.runs[run_id].audit_commit} "
        "is not in the audit repo"
        for run_id in (1, 2, 3)
    ]


async def test_it_names_a_commit_without_the_file_and_rewritten_history(
    session_factory: SessionFactory, audit_dir: Path
) -> None:
    trail = await committed_trail(session_factory, audit_dir)
    first = trail.runs.runs[1].audit_commit
    trail.runs.change(2, audit_commit=first)
    third = trail.runs.runs[3].audit_commit
    git(audit_dir, "update-ref", "refs/heads/main", f"{third}^")  # history rewound by hand

    report = await trail.service.verify()

    assert report.problems == [
        f"run 2: the run's audit commit {first} differs from its audit record's "
        f"{git(audit_dir, 'rev-parse', 'HEAD').strip()}",
        f"run 2: audit commit {first} has no .audit/runs/2.json",
        f"run 3: audit commit {third} is not in the history of the audit repo's HEAD "
        "(was history rewritten?)",
    ]


async def test_it_names_a_file_that_is_not_json(
    session_factory: SessionFactory, audit_dir: Path
) -> None:
    trail = await committed_trail(session_factory, audit_dir)
    sha = AuditRepo(audit_dir).commit_file(record_path(1), b"{not json", "tamper", "Someone <x@y>")
    trail.runs.change(1, audit_commit=sha)

    report = await trail.service.verify()

    assert [line.split(": ", 1)[0] for line in report.problems] == ["run 1", "run 1"]
    assert (
        report.problems[1] == f"run 1: .audit/runs/1.json in audit commit {sha} is not valid JSON"
    )
