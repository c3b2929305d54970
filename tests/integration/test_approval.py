"""The approval workflow on real plans and real ansible runs (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chiffon.app import Services
from chiffon.approval import (
    ApprovalService,
    InvalidChange,
    Modification,
    NotAllowed,
    PlanConflict,
)
from chiffon.executor import RunRequest
from chiffon.planner import PlanRecord, PlanStatus, StepState

pytestmark = pytest.mark.slow


async def until(
    approval: ApprovalService, plan_id: int, done: Callable[[PlanRecord], bool]
) -> PlanRecord:
    """The plan once ``done`` holds for it (polling the database, as a page would)."""
    async with asyncio.timeout(90):
        while True:
            plan = await approval.get(plan_id)
            if done(plan):
                return plan
            await asyncio.sleep(0.1)


async def until_finished(approval: ApprovalService, plan_id: int) -> PlanRecord:
    return await until(approval, plan_id, lambda plan: plan.status.is_finished)


async def test_it_stores_a_plan_awaiting_approval_with_an_estimate_from_history(
    services: Services,
) -> None:
    first = await services.planner.submit("say hello", "ada")
    assert first.status is PlanStatus.PENDING_APPROVAL and first.requester == "ada"
    assert [s.entry["name"] for s in first.steps if s.entry] == ["hello"]
    assert first.estimated_s is None and first.steps[0].estimated_s is None
    assert first.proposed["steps"][0]["entry"]["name"] == "hello"
    run = await services.executor.start_run(RunRequest(entry="hello.yml"))
    await services.executor.wait_for(run.id)
    second = await services.planner.submit("say hello", "ada")
    assert second.estimated_s is not None and second.estimated_s > 0
    assert second.steps[0].estimated_s == second.estimated_s


async def test_it_runs_an_approved_plan_step_by_step(services: Services) -> None:
    approval = services.approval
    plan = await services.planner.submit(
        "say hello and then run the variables demo with app port 9090", "ada"
    )
    await approval.approve(plan.id, "bob")
    done = await until_finished(approval, plan.id)
    assert done.status is PlanStatus.SUCCEEDED and done.decided_by == "bob"
    assert [s.state for s in done.steps] == [StepState.SUCCEEDED, StepState.SUCCEEDED]
    runs = [await services.executor.get_run(s.run_id or 0) for s in done.steps]
    assert [r.entry_name for r in runs if r] == ["hello", "vars-demo"]
    assert all(r and r.correlation_id == plan.correlation_id for r in runs)
    assert runs[1] and runs[1].extra_vars["app_port"] == 9090 and runs[1].requested_by == "bob"
    assert [c.action for c in await approval.changes(plan.id)] == ["approved"]


async def test_a_failed_step_skips_its_dependents_and_can_be_rerun_after_a_fix(
    services: Services, sample_repo: Path
) -> None:
    approval = services.approval
    plan = await services.planner.submit("fail on purpose, then say hello", "ada")
    assert plan.steps[1].depends_on == [0]
    await approval.approve(plan.id, "ada")
    done = await until_finished(approval, plan.id)
    assert done.status is PlanStatus.FAILED and "step 1" in (done.error or "")
    assert [s.state for s in done.steps] == [StepState.FAILED, StepState.SKIPPED]
    assert done.steps[1].run_id is None
    with pytest.raises(PlanConflict, match="only a failed step"):
        await approval.retry_step(plan.id, 1, "ada")

    fixed = (
        (sample_repo / "fail.yml")
        .read_text()
        .replace("ansible.builtin.fail:", "ansible.builtin.debug:")
    )
    (sample_repo / "fail.yml").write_text(fixed)
    await services.catalog.scan()
    await approval.retry_step(plan.id, 0, "ada")
    again = await until_finished(approval, plan.id)
    assert again.status is PlanStatus.SUCCEEDED
    assert [s.state for s in again.steps] == [StepState.SUCCEEDED, StepState.SUCCEEDED]
    assert again.steps[0].run_id != done.steps[0].run_id


async def test_it_refuses_decisions_on_decided_plans(services: Services) -> None:
    approval = services.approval
    plan = await services.planner.submit("say hello", "ada")
    with pytest.raises(InvalidChange, match="reason"):
        await approval.reject(plan.id, "bob", "  ")
    await approval.reject(plan.id, "bob", "not today")
    with pytest.raises(PlanConflict, match="already rejected by bob"):
        await approval.approve(plan.id, "carol")
    with pytest.raises(PlanConflict):
        await approval.modify(plan.id, "carol", Modification(order=[0]))
    approved = await services.planner.submit("say hello", "ada")
    await approval.approve(approved.id, "bob")
    with pytest.raises(PlanConflict, match="already"):
        await approval.approve(approved.id, "bob")
    await until_finished(approval, approved.id)


async def test_exactly_one_of_two_simultaneous_approvals_wins(services: Services) -> None:
    approval = services.approval
    plan = await services.planner.submit("say hello", "ada")
    results = await asyncio.gather(
        approval.approve(plan.id, "bob", plan.version),
        approval.approve(plan.id, "carol", plan.version),
        return_exceptions=True,
    )
    wins = [r for r in results if isinstance(r, PlanRecord)]
    losses = [r for r in results if isinstance(r, PlanConflict)]
    assert len(wins) == 1 and len(losses) == 1
    assert [c.action for c in await approval.changes(plan.id)] == ["approved"]
    await until_finished(approval, plan.id)


async def test_it_refuses_a_stale_version(services: Services) -> None:
    plan = await services.planner.submit("say hello", "ada")
    await services.approval.modify(plan.id, "ada", Modification(targets={0: "localhost"}))
    with pytest.raises(PlanConflict, match="changed since you loaded it"):
        await services.approval.approve(plan.id, "bob", plan.version)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"nope": 1}, "does not declare a variable 'nope'"),
        ({"app_port": "eighty"}, "app_port must be a whole number"),
        ({"features": "metrics"}, "features must be a list"),
    ],
)
async def test_it_refuses_variables_the_entry_does_not_declare_or_of_the_wrong_type(
    services: Services, values: dict[str, Any], message: str
) -> None:
    plan = await services.planner.submit("run the variables demo", "ada")
    with pytest.raises(InvalidChange, match=message):
        await services.approval.modify(plan.id, "bob", Modification(vars={0: values}))
    unchanged = await services.approval.get(plan.id)
    assert unchanged.version == plan.version and unchanged.steps == plan.steps


async def test_it_records_modifications_and_applies_them(services: Services) -> None:
    approval = services.approval
    plan = await services.planner.submit("say hello and then run the variables demo", "ada")
    changed = await approval.modify(
        plan.id,
        "bob",
        Modification(order=[1], vars={1: {"app_port": "9091", "features": '["a"]'}}),
    )
    assert [s.entry["name"] for s in changed.steps if s.entry] == ["vars-demo"]
    assert changed.steps[0].vars == {"app_port": 9091, "features": ["a"]}
    assert changed.steps[0].depends_on == []  # its dependency was removed
    [change] = await approval.changes(plan.id)
    assert change.by == "bob" and change.action == "modified"
    assert change.detail["removed"] == [1] and "2" in change.detail["vars"]
    with pytest.raises(InvalidChange, match="no step 5"):
        await approval.modify(plan.id, "bob", Modification(order=[4]))


async def test_a_plan_whose_playbook_changed_must_be_revalidated(
    services: Services, sample_repo: Path
) -> None:
    approval = services.approval
    plan = await services.planner.submit("say hello", "ada")
    hello = sample_repo / "hello.yml"
    hello.write_text(hello.read_text().replace("Greet", "Greet everyone"))
    await services.catalog.scan()
    with pytest.raises(PlanConflict, match="changed since this plan was made"):
        await approval.approve(plan.id, "bob")
    await approval.revalidate(plan.id, "bob")
    await approval.approve(plan.id, "bob")
    assert (await until_finished(approval, plan.id)).status is PlanStatus.SUCCEEDED


async def test_a_plan_with_an_unmatched_step_cannot_be_approved(services: Services) -> None:
    plan = await services.planner.submit("say hello, then frobnicate the quantum flux", "ada")
    assert [s.match for s in plan.steps][-1] == "no_match"
    with pytest.raises(PlanConflict, match="have no playbook"):
        await services.approval.approve(plan.id, "bob")
    await services.approval.modify(plan.id, "bob", Modification(order=[0]))
    await services.approval.approve(plan.id, "bob")
    await until_finished(services.approval, plan.id)


async def test_a_preview_runs_every_step_in_check_mode(services: Services) -> None:
    approval = services.approval
    plan = await services.planner.submit("say hello", "ada")
    await approval.preview(plan.id, "bob")
    current = await until(
        approval, plan.id, lambda p: bool(p.preview) and (p.preview or {})["status"] == "done"
    )
    assert current.status is PlanStatus.PENDING_APPROVAL
    [step] = current.preview["steps"]
    run = await services.executor.get_run(step["run_id"])
    assert run and run.check_mode and step["status"] == "succeeded"
    assert step["hosts"] and all(h["failed"] == 0 for h in step["hosts"].values())


async def test_cancelling_a_plan_cancels_its_step_and_skips_the_rest(services: Services) -> None:
    approval = services.approval
    plan = await services.planner.submit("run the slow playbook, then say hello", "ada")
    assert [s.entry["name"] for s in plan.steps if s.entry] == ["slow", "hello"]
    await approval.approve(plan.id, "bob")
    await until(approval, plan.id, lambda p: p.steps[0].state is StepState.RUNNING)
    await approval.cancel(plan.id, "bob")
    done = await until_finished(approval, plan.id)
    assert done.status is PlanStatus.CANCELLED, (done.error, [s.state for s in done.steps])
    assert [s.state for s in done.steps] == [StepState.CANCELLED, StepState.SKIPPED]


async def test_a_second_person_must_approve_when_the_setting_says_so(services: Services) -> None:
    strict = ApprovalService(
        services.sessions,
        services.bus,
        services.planner.plans,  # type: ignore[arg-type]
        services.catalog,
        services.executor,
        require_second_approver=True,
    )
    plan = await services.planner.submit("say hello", "ada")
    with pytest.raises(NotAllowed, match="someone else"):
        await strict.approve(plan.id, "ada")
    await strict.approve(plan.id, "bob")
    await until_finished(strict, plan.id)
