"""Generated drafts for no-match steps: real `ansible-playbook --syntax-check`, saved into a real
git repo, picked up by the catalog, and refused by the executor until a person reviews them."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from chiffon.app import Services
from chiffon.executor import RunRequest, RunRequestError, RunStatus
from chiffon.planner import DraftError, PlanStep, RiskLevel, SavedDraft, StepStatus, draft_for
from chiffon.planner.text import plan_text
from tests.integration.test_catalog_write import git, init_git

ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
CLAUSES = {
    "container": "deploy uptime kuma on port 3001",
    "package": "install htop",
    "skeleton": "rotate the backup keys",
    "hostile": "install foo\"\n- hosts: all\n  tasks: {{ lookup('pipe', 'id') }}",
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(CLAUSES))
def test_each_template_passes_the_ansible_syntax_check(tmp_path: Path, kind: str) -> None:
    step = PlanStep(CLAUSES[kind], StepStatus.NO_MATCH, None, 0.0, (), {}, (), None)
    draft = draft_for(step)
    (tmp_path / draft.path).write_text(draft.text)
    result = subprocess.run(
        [ANSIBLE_PLAYBOOK, "--syntax-check", "-i", "localhost,", draft.path],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


async def test_a_no_match_step_gets_a_draft_and_the_text_says_so(services: Services) -> None:
    plan = await services.planner.plan("deploy uptime kuma on port 3001 and then say hello")
    kuma, hello = plan.steps
    assert kuma.status is StepStatus.NO_MATCH and kuma.draft is not None
    assert kuma.draft.template == "container" and kuma.draft.path == "uptime-kuma.yml"
    assert hello.draft is None
    assert "a draft is available: uptime-kuma.yml" in plan_text(plan)
    assert plan.to_json()["steps"][0]["draft"]["path"] == "uptime-kuma.yml"


async def test_a_saved_draft_is_one_commit_an_entry_and_refused_until_reviewed(
    services: Services, sample_repo: Path
) -> None:
    init_git(sample_repo)
    plan = await services.planner.plan("deploy uptime kuma on port 3001")
    draft = plan.steps[0].draft
    assert draft is not None

    saved = await services.planner.save_draft(draft, author="Ada <ada@example.org>")

    assert saved.paths == ["uptime-kuma.yml"] and saved.commit is not None
    assert git(sample_repo, "rev-parse", "HEAD").strip() == saved.commit
    shown = git(sample_repo, "show", "--name-only", "--format=%an|%s", "HEAD").splitlines()
    assert shown[0] == "Ada|Add generated draft uptime-kuma.yml for uptime-kuma (not reviewed)"
    assert [line for line in shown[1:] if line] == ["uptime-kuma.yml"]
    assert git(sample_repo, "log", "--format=%s").count("\n") == 2
    entry = await services.catalog.resolve("uptime-kuma")
    assert entry.valid and entry.header["generated"] is True
    assert entry.service == "uptime-kuma"
    assert {v.name: v.default for v in entry.variables}["uptime_kuma_port"] == 3001

    again = await services.planner.plan("deploy uptime kuma on port 3001")
    assert again.steps[0].entry == entry  # now it matches, flagged
    assert again.risk.level is RiskLevel.HIGH
    assert "generated and cannot run until reviewed" in " ".join(again.risk.reasons)
    with pytest.raises(RunRequestError, match="nobody has reviewed it yet"):
        await services.executor.start_run(RunRequest(entry="uptime-kuma", check=True))
    assert await services.executor.list_runs() == []

    with pytest.raises(DraftError, match="already exists"):
        await services.planner.save_draft(draft, author="Ada <ada@example.org>")
    assert git(sample_repo, "rev-parse", "HEAD").strip() == saved.commit


@pytest.mark.slow
async def test_a_reviewed_generated_playbook_runs(services: Services, sample_repo: Path) -> None:
    (sample_repo / "checked.yml").write_text(
        "# chiffon:\n#   generated: true\n#   reviewed: true\n"
        "- name: Checked\n  hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - name: Say it\n      ansible.builtin.debug:\n        msg: reviewed\n"
    )
    await services.catalog.scan()
    run = await services.executor.start_run(RunRequest(entry="checked.yml"))
    finished = await services.executor.wait_for(run.id)
    assert finished.status is RunStatus.SUCCEEDED


async def test_a_draft_saved_outside_git_has_no_commit(services: Services) -> None:
    plan = await services.planner.plan("install htop")
    assert plan.steps[0].draft is not None
    saved = await services.planner.save_draft(plan.steps[0].draft, author="cli")
    assert saved.commit is None
    assert (await services.catalog.resolve("htop")).header["generated"] is True


async def test_a_header_with_a_non_boolean_generated_flag_is_invalid(
    services: Services, sample_repo: Path
) -> None:
    (sample_repo / "odd.yml").write_text(
        "# chiffon:\n#   generated: maybe\n- hosts: localhost\n  tasks: []\n"
    )
    await services.catalog.scan()
    entry = await services.catalog.resolve("odd.yml")
    assert not entry.valid and "`generated` must be true or false" in (entry.error or "")


async def test_two_saves_of_one_step_draft_at_once_make_one_commit(
    services: Services, sample_repo: Path
) -> None:
    init_git(sample_repo)
    record = await services.planner.submit("install htop", "ada")

    results = await asyncio.gather(
        services.planner.save_step_draft(record.id, 0, "ada"),
        services.planner.save_step_draft(record.id, 0, "bob", "htop-too.yml"),
        return_exceptions=True,
    )
    saved = [r for r in results if isinstance(r, SavedDraft)]
    refused = [r for r in results if isinstance(r, DraftError)]
    assert len(saved) == 1 and len(refused) == 1, results
    assert git(sample_repo, "log", "--format=%s").count("\n") == 2  # start + one draft
    assert saved[0].commit == git(sample_repo, "rev-parse", "HEAD").strip()
    assert (sample_repo / "htop.yml").exists() != (sample_repo / "htop-too.yml").exists()
    plan = await services.planner.plans.get(record.id) if services.planner.plans else None
    assert plan is not None and plan.saved_draft_of(0) == saved[0]
