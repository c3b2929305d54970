"""Real failing runs on localhost, diagnosed by the RunFinished subscription, on both databases.

ansible-lint is pointed at a missing executable here: the diagnosis must not need it (and the
real linter is exercised in test_analyzer_service and test_analyzer_lint)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from chiffon.analyzer import AnalyzerError, AnalyzerService, DiagnosisView
from chiffon.app import Services, bootstrap
from chiffon.executor import RunRequest, RunStatus
from chiffon.planner.models import LlmUsage
from chiffon.settings import LlmProvider, Settings
from tests._analyzer import FAILING, FAR_INVENTORY, write_playbooks
from tests._fake_llm import Reply, Status, fake_llm

pytestmark = pytest.mark.slow


@pytest.fixture
async def services(settings: Settings, tmp_path: Path) -> AsyncIterator[Services]:
    write_playbooks(settings.playbooks_dir, {**FAILING, "inventory/far.yml": FAR_INVENTORY})
    services = bootstrap(settings.with_overrides(ansible_lint=str(tmp_path / "no-lint")))
    await services.start()
    yield services
    await services.stop()


async def _run(services: Services, entry: str) -> int:
    inventory = "inventory/far.yml" if entry == "unreachable.yml" else None
    run = await services.executor.start_run(RunRequest(entry=entry, inventory=inventory))
    finished = await services.executor.wait_for(run.id)
    assert finished.status in (RunStatus.FAILED, RunStatus.SUCCEEDED), finished.error
    return run.id


async def test_it_diagnoses_every_kind_of_failure_it_can_produce_here(
    services: Services,
) -> None:
    names = [*FAILING, "hello.yml"]
    ids = await asyncio.gather(*(_run(services, name) for name in names))
    run_ids = dict(zip(names, ids, strict=True))
    await services.analyzer.wait_idle()

    stored: dict[str, DiagnosisView] = {}
    for name in FAILING:
        diagnosis = await services.analyzer.get_diagnosis(run_ids[name])
        assert diagnosis is not None, f"{name} was not diagnosed on RunFinished"
        stored[name] = diagnosis
    seen = {
        name: (d.failure_class, d.subject, d.file, d.line, d.task, d.host)
        for name, d in stored.items()
    }
    assert seen == {
        "undefined.yml": (
            "undefined_variable", "site_owner", "undefined.yml", 5,
            "Use a variable nobody set", "localhost",
        ),
        "missing-module.yml": (
            "missing_module", "community.nothere.frobnicate", "missing-module.yml", 5, None, None,
        ),
        "nonzero.yml": (
            "nonzero", None, "nonzero.yml", 5, "Run a command that fails", "localhost",
        ),
        "handler.yml": (
            "missing_handler", "Restart the thing", "handler.yml", 5, "Change something", None,
        ),
        "template.yml": (
            "syntax", None, "template.yml", 5, "Render a broken expression", "localhost",
        ),
        "timeout.yml": ("timeout", None, "timeout.yml", 5, "Wait too long", "localhost"),
        "unreachable.yml": ("unreachable", "faraway", "unreachable.yml", 5, "Ping it", "faraway"),
    }  # fmt: skip
    assert stored["nonzero.yml"].rc == 2 and "/definitely/not/here" in stored["nonzero.yml"].error
    assert stored["nonzero.yml"].module == "ansible.builtin.command"
    assert "-e site_owner=VALUE" in stored["undefined.yml"].remedy
    assert "ansible-galaxy collection install community.nothere" in (
        stored["missing-module.yml"].remedy
    )
    assert "192.0.2.1" in stored["unreachable.yml"].error
    assert await services.analyzer.get_diagnosis(run_ids["hello.yml"]) is None
    with pytest.raises(AnalyzerError, match="did not fail"):
        await services.analyzer.diagnose(run_ids["hello.yml"])

    # ansible-lint is missing: the diagnosis is whole, the suggestions say why lint is absent.
    diagnosed = await services.analyzer.diagnosis_of(run_ids["handler.yml"])
    assert diagnosed.analysis is not None
    assert diagnosed.analysis.lint_error and "not installed" in diagnosed.analysis.lint_error
    assert "chiffon-missing-handler" in {s.rule for s in diagnosed.analysis.suggestions}

    # The LLM hook: a richer explanation when it answers, the deterministic one when it fails.
    async def explains(view: DiagnosisView, correlation_id: str) -> str:
        return f"In short: {view.title.lower()} at {view.file}:{view.line}."

    async def breaks(view: DiagnosisView, correlation_id: str) -> str:
        raise ConnectionError("the model server is down")

    for explainer, narrative in ((explains, "In short: command returned non-zero at "
                                  "nonzero.yml:5."), (breaks, None)):  # fmt: skip
        analyzer = AnalyzerService(
            services.sessions, services.bus, services.catalog, services.executor,
            lint_executable=services.analyzer.lint_executable, explainer=explainer,
        )  # fmt: skip
        explained = await analyzer.diagnose(run_ids["nonzero.yml"], with_suggestions=False)
        assert explained.diagnosis.narrative == narrative
        assert explained.diagnosis.failure_class == "nonzero"
        stored_again = await analyzer.get_diagnosis(run_ids["nonzero.yml"])
        assert stored_again is not None and stored_again.narrative == narrative


async def test_it_points_into_the_role_whose_task_failed(services: Services) -> None:
    write_playbooks(
        services.catalog.playbooks_dir,
        {
            "roles/greeter/tasks/main.yml": "- name: Greet the owner\n  ansible.builtin.debug:\n"
            '    msg: "Hello {{ greeter_owner }}"\n'
        },
    )
    await services.catalog.scan()
    run = await services.executor.start_run(RunRequest(entry="role:greeter"))
    await services.executor.wait_for(run.id)

    diagnosis = (await services.analyzer.diagnose(run.id, with_suggestions=False)).diagnosis

    assert (diagnosis.failure_class, diagnosis.subject) == ("undefined_variable", "greeter_owner")
    assert (diagnosis.file, diagnosis.line) == ("roles/greeter/tasks/main.yml", 1)
    assert "roles/greeter/defaults/main.yml (the role's default)" in diagnosis.remedy


async def test_it_diagnoses_with_a_linter_that_crashes(settings: Settings, tmp_path: Path) -> None:
    crashing = tmp_path / "ansible-lint"
    crashing.write_text('#!/bin/sh\necho "Traceback: boom" >&2\nexit 3\n')
    crashing.chmod(0o755)
    write_playbooks(settings.playbooks_dir, {"handler.yml": FAILING["handler.yml"]})
    services = bootstrap(settings.with_overrides(ansible_lint=str(crashing)))
    await services.start()
    try:
        run_id = await _run(services, "handler.yml")
        await services.analyzer.wait_idle()

        diagnosed = await services.analyzer.diagnosis_of(run_id)
    finally:
        await services.stop()

    assert diagnosed.diagnosis.failure_class == "missing_handler"
    assert diagnosed.analysis is not None
    assert diagnosed.analysis.lint_error == "ansible-lint failed (exit code 3): Traceback: boom"
    assert {s.rule for s in diagnosed.analysis.suggestions} == {"chiffon-missing-handler"}


async def test_the_planners_llm_chain_explains_a_diagnosis_in_more_words(
    settings: Settings, tmp_path: Path
) -> None:
    write_playbooks(settings.playbooks_dir, {"nonzero.yml": FAILING["nonzero.yml"]})
    explanation = json.dumps({"explanation": " The command\n failed:  the path is missing. "})
    with (
        fake_llm(lambda body: Reply("Sure! It failed because...")) as chatty,
        fake_llm(lambda body: Reply(explanation), lambda body: Status(500)) as good,
    ):
        providers = tuple(
            LlmProvider(name=name, base_url=llm.base_url, model="m")
            for name, llm in (("chatty", chatty), ("good", good))
        )
        services = bootstrap(
            settings.with_overrides(ansible_lint=str(tmp_path / "no"), llm_providers=providers)
        )
        await services.start()
        try:
            explained_id = await _run(services, "nonzero.yml")
            await services.analyzer.wait_idle()
            unexplained_id = await _run(services, "nonzero.yml")  # now every provider fails
            await services.analyzer.wait_idle()
            explained = await services.analyzer.get_diagnosis(explained_id)
            unexplained = await services.analyzer.get_diagnosis(unexplained_id)
            run = await services.executor.get_run(explained_id)
            async with services.sessions() as session:
                usage = (await session.scalars(select(LlmUsage).order_by(LlmUsage.id))).all()
        finally:
            await services.stop()

    assert explained is not None and unexplained is not None and run is not None
    assert explained.narrative == "The command failed: the path is missing."
    assert explained.explanation and explained.remedy  # Chiffon's own text stays
    assert unexplained.narrative is None and unexplained.failure_class == "nonzero"
    # The model is told the facts the diagnosis established, not the raw output.
    user = good.requests[0]["messages"][1]["content"]
    facts = json.loads(user[user.index("{") :])
    assert (facts["class"], facts["file"], facts["line"], facts["rc"]) == (
        "nonzero", "nonzero.yml", 5, 2,
    )  # fmt: skip
    assert "/definitely/not/here" in facts["error"] and "output" not in facts
    assert [(u.provider, u.outcome) for u in usage] == [
        ("chatty", "invalid_json"), ("good", "ok"),
        ("chatty", "invalid_json"), ("good", "http_error"),
    ]  # fmt: skip
    assert usage[1].correlation_id == run.correlation_id
