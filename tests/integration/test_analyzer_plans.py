"""A failed plan's post-mortem on real plans and real runs on localhost, on both databases.

ansible-lint is pointed at a missing executable: the post-mortem must not need it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chiffon.analyzer import AnalyzerError
from chiffon.app import Services, bootstrap
from chiffon.planner import PlanRecord
from chiffon.settings import Settings
from tests._analyzer import FAIL_ON_PURPOSE, write_playbooks

pytestmark = pytest.mark.slow


async def _services(settings: Settings) -> AsyncIterator[Services]:
    write_playbooks(settings.playbooks_dir, {"fail.yml": FAIL_ON_PURPOSE})
    services = bootstrap(settings)
    await services.start()
    yield services
    await services.stop()


@pytest.fixture
async def services(settings: Settings, tmp_path: Path) -> AsyncIterator[Services]:
    async for services in _services(settings.with_overrides(ansible_lint=str(tmp_path / "no"))):
        yield services


async def _failed_plan(services: Services, text: str) -> PlanRecord:
    plan = await services.planner.submit(text, "ada")
    await services.approval.approve(plan.id, "bob")
    async with asyncio.timeout(90):
        while True:
            plan = await services.approval.get(plan.id)
            if plan.status.is_finished:
                assert plan.status == "failed", plan
                return plan
            await asyncio.sleep(0.1)


async def test_it_diagnoses_the_failed_step_of_a_failed_plan(services: Services) -> None:
    plan = await _failed_plan(services, "fail on purpose, then say hello")

    postmortem = await services.analyzer.plan_postmortem(plan.id)

    assert postmortem is not None and postmortem.plan.id == plan.id
    failed, skipped = postmortem.steps
    assert [s.step.state for s in postmortem.steps] == ["failed", "skipped"]
    assert postmortem.failures == [failed]
    assert failed.run is not None and failed.run.id == plan.steps[0].run_id
    assert failed.duration_s is not None and failed.duration_s > 0
    assert failed.diagnosed is not None
    diagnosis = failed.diagnosed.diagnosis
    assert (diagnosis.failure_class, diagnosis.file, diagnosis.line, diagnosis.task) == (
        "nonzero", "fail.yml", 9, "Fail here",
    )  # fmt: skip
    assert failed.diagnosed.analysis is not None
    rules = {s.rule: s for s in failed.diagnosed.analysis.suggestions}
    assert rules["chiffon-command-changed"].fix_diff  # the fix is there to accept
    assert skipped.run is None and skipped.diagnosed is None and skipped.problem is None

    body = postmortem.to_json()
    assert (body["plan_id"], body["status"]) == (plan.id, "failed")
    assert [s["state"] for s in body["steps"]] == ["failed", "skipped"]
    assert body["steps"][0]["diagnosis"]["class"] == "nonzero"
    assert body["steps"][0]["run_status"] == "failed"
    assert "chiffon-command-changed" in {
        s["rule"] for s in body["steps"][0]["suggestions"]["suggestions"]
    }
    assert body["steps"][1]["diagnosis"] is None and body["steps"][1]["run_id"] is None


async def test_it_refuses_a_plan_that_did_not_fail_and_knows_no_unknown_plan(
    services: Services,
) -> None:
    pending = await services.planner.submit("say hello", "ada")

    with pytest.raises(AnalyzerError, match=r"did not fail \(it is pending_approval\)"):
        await services.analyzer.plan_postmortem(pending.id)
    assert await services.analyzer.plan_postmortem(424242) is None


async def test_it_says_why_a_step_that_never_ran_has_no_diagnosis(
    settings: Settings, tmp_path: Path
) -> None:
    # Every run is refused (no such inventory): the step fails without a run.
    broken = settings.with_overrides(
        ansible_lint=str(tmp_path / "no"), inventory="inventory/nowhere.yml"
    )
    async for services in _services(broken):
        plan = await _failed_plan(services, "fail on purpose")

        postmortem = await services.analyzer.plan_postmortem(plan.id)

        assert postmortem is not None
        (step,) = postmortem.failures
        assert step.run is None and step.diagnosed is None
        assert step.problem and "never ran" in step.problem
        assert "inventory/nowhere.yml does not exist" in step.problem
