"""Decided plans in the audit trail: real plans, real ansible runs, a real git repo, on SQLite
and PostgreSQL; the git CLI reads what was committed."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, update

from chiffon.app import Services
from chiffon.approval import Modification
from chiffon.audit import AuditFilter, plan_record_path
from chiffon.audit.models import AuditRecord
from chiffon.audit.repo import AuditRepo
from chiffon.planner import PlanRecord
from chiffon.planner.models import PlanRow


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


async def audited(services: Services, plan_id: int, newer_than: str | None = None) -> PlanRecord:
    """The plan once it is decided and an audit commit (other than ``newer_than``) is
    stored on it."""
    async with asyncio.timeout(90):
        while True:
            plan = await services.approval.get(plan_id)
            if plan.audit_commit not in (None, newer_than):
                return plan
            await asyncio.sleep(0.1)


def committed(services: Services, plan: PlanRecord) -> dict[str, Any]:
    text = git(services.audit.audit_dir, "show", f"{plan.audit_commit}:.audit/plans/{plan.id}.json")
    record: dict[str, Any] = json.loads(text)
    return record


@pytest.mark.slow
async def test_it_commits_an_approved_plan_after_its_runs(services: Services) -> None:
    plan = await services.planner.submit(
        "say hello and then run the variables demo with app port 9090", "ada"
    )
    await services.approval.modify(
        plan.id, "carol", Modification(targets={0: "localhost"}, vars={1: {"app_port": 9191}})
    )
    await services.approval.approve(plan.id, "bob")

    done = await audited(services, plan.id)

    record = committed(services, done)
    runs = [await services.executor.get_run(step.run_id or 0) for step in done.steps]
    assert all(run is not None and run.audit_commit for run in runs)
    assert record["request"] == plan.request and record["requester"] == "ada"
    assert record["proposed"]["steps"][1]["vars"] == {"app_port": 9090}
    assert [(c["by"], c["action"]) for c in record["changes"]] == [
        ("carol", "modified"),
        ("bob", "approved"),
    ]
    assert record["changes"][0]["detail"]["targets"] == {"1": "localhost"}
    assert record["changes"][0]["detail"]["vars"] == {"2": {"app_port": 9191}}
    assert record["steps"][1]["vars"] == {"app_port": 9191}
    assert record["steps"][0]["target"] == "localhost"
    assert record["decision"]["verdict"] == "approved" and record["decision"]["by"] == "bob"
    assert record["status"] == "succeeded" and record["error"] is None
    assert record["runs"] == [
        {"step": 1, "run_id": runs[0].id, "audit_commit": runs[0].audit_commit},  # type: ignore[union-attr]
        {"step": 2, "run_id": runs[1].id, "audit_commit": runs[1].audit_commit},  # type: ignore[union-attr]
    ]
    for key in ("created_at", "decided_at", "finished_at"):
        assert record["timings"][key] is not None
    # The plan's commit comes after (and so holds) its runs' commits.
    history = git(services.audit.audit_dir, "rev-list", str(done.audit_commit)).split()
    assert {run.audit_commit for run in runs if run} <= set(history[1:])
    subject = git(services.audit.audit_dir, "log", "-1", "--format=%s", str(done.audit_commit))
    assert subject == f"plan {plan.id}: succeeded by bob\n"
    report = await services.audit.verify()
    assert report.ok, report.problems
    assert (report.runs_checked, report.plans_checked) == (2, 1)


async def test_it_commits_a_rejected_plan_with_the_reason(services: Services) -> None:
    plan = await services.planner.submit("say hello", "ada")

    await services.approval.reject(plan.id, "bob", "not during <b>office</b> hours")

    done = await services.approval.get(plan.id)
    assert done.audit_commit is not None  # stored before reject returns
    record = committed(services, done)
    assert record["decision"] == {
        "verdict": "rejected",
        "by": "bob",
        "at": record["timings"]["decided_at"],
        "reason": "not during <b>office</b> hours",
    }
    assert record["status"] == "rejected" and record["runs"] == []
    assert [c["action"] for c in record["changes"]] == ["rejected"]
    [entry], more = await services.audit.search(AuditFilter(person="BOB"))
    assert (entry.subject, entry.subject_id, entry.status, more) == (
        "plan",
        plan.id,
        "rejected",
        False,
    )
    assert entry.error == "not during <b>office</b> hours"
    assert entry.commit_sha == done.audit_commit
    assert (await services.audit.verify()).ok


async def test_verify_names_a_tampered_plan_record(services: Services) -> None:
    plan = await services.planner.submit("say hello", "ada")
    await services.approval.reject(plan.id, "bob", "no")
    done = await services.approval.get(plan.id)
    record = committed(services, done)
    record["decision"]["reason"] = "approved, really"
    forged = AuditRepo(services.audit.audit_dir).commit_file(
        plan_record_path(plan.id), json.dumps(record).encode(), "forge", "Someone <x@y>"
    )
    async with services.sessions() as session, session.begin():
        await session.execute(update(AuditRecord).values(commit_sha=forged))
    await services.approval.set_audit_commit(plan.id, forged)

    report = await services.audit.verify()

    assert report.problems == [
        f"plan {plan.id}: .audit/plans/{plan.id}.json in audit commit {forged} differs from "
        "the database: decision.reason"
    ]
    detail = await services.audit.plan_detail(plan.id)
    assert detail is not None and not detail.verified and detail.problems == report.problems


async def test_the_start_up_sweep_commits_decided_plans_that_have_no_commit(
    services: Services,
) -> None:
    # Plan A: decided while nothing committed it; plan B: its claim lost its process.
    first = await services.planner.submit("say hello", "ada")
    second = await services.planner.submit("say hello", "ada")
    await services.approval.reject(first.id, "bob", "no")
    await services.approval.reject(second.id, "bob", "no")
    async with services.sessions() as session, session.begin():
        await session.execute(delete(AuditRecord).where(AuditRecord.subject == "plan"))
        await session.execute(update(PlanRow).values(audit_commit=None))
        await session.execute(
            insert(AuditRecord).values(
                subject="plan",
                subject_id=second.id,
                path=plan_record_path(second.id),
                correlation_id=second.correlation_id,
            )
        )
    before = git(services.audit.audit_dir, "rev-list", "--count", "HEAD")
    assert (await services.audit.plan_detail(first.id)).problems == [  # type: ignore[union-attr]
        f"plan {first.id}: no audit commit (rejected at "
        f"{(await services.approval.get(first.id)).finished_at.isoformat()})"  # type: ignore[union-attr]
    ]

    await services.audit.commit_pending()

    for plan_id in (first.id, second.id):
        plan = await services.approval.get(plan_id)
        assert plan.audit_commit is not None
        assert committed(services, plan)["plan_id"] == plan_id
    after = git(services.audit.audit_dir, "rev-list", "--count", "HEAD")
    assert int(after) == int(before) + 2
    assert await services.approval.decided_plans_without_audit() == []
    assert (await services.audit.verify()).ok


@pytest.mark.slow
async def test_a_plan_decided_again_after_a_rerun_gets_a_newer_commit(
    services: Services, sample_repo: Path
) -> None:
    plan = await services.planner.submit("fail on purpose", "ada")
    await services.approval.approve(plan.id, "bob")
    failed = await audited(services, plan.id)
    assert committed(services, failed)["status"] == "failed"
    failures = await services.audit.failures(7)
    run_id = failed.steps[0].run_id
    assert [(e.subject, e.subject_id) for e in failures] == [("plan", plan.id), ("run", run_id)]
    assert failures[0].error == "step 1 failed" and failures[0].decided_by == "bob"
    assert failures[0].commit_sha == failed.audit_commit
    fail_yml = sample_repo / "fail.yml"
    fail_yml.write_text(
        fail_yml.read_text().replace("ansible.builtin.fail:", "ansible.builtin.debug:")
    )
    await services.catalog.scan()

    await services.approval.retry_step(plan.id, 0, "bob")

    again = await audited(services, plan.id, newer_than=failed.audit_commit)
    assert committed(services, again)["status"] == "succeeded"
    log = git(services.audit.audit_dir, "log", "--format=%H", "--", plan_record_path(plan.id))
    assert log.split() == [again.audit_commit, failed.audit_commit]
    assert (await services.audit.verify()).ok
