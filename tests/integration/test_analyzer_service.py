"""AnalyzerService on both databases: cached suggestions, fixes committed to a real git repo
(checked by running the real linter again and by `git log`), refusals and dismissals."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chiffon.analyzer import AnalyzerError, SuggestionConflict, SuggestionStatus
from chiffon.app import Services, bootstrap
from chiffon.settings import Settings
from tests._analyzer import SLOPPY, git, init_git, write_playbooks

AUTHOR = "Ada Lovelace <ada@example.org>"


async def _services(settings: Settings, lint: str) -> AsyncIterator[Services]:
    services = bootstrap(settings.with_overrides(ansible_lint=lint))
    await services.start()
    yield services
    await services.stop()


@pytest.fixture
async def no_lint(settings: Settings, tmp_path: Path) -> AsyncIterator[Services]:
    """Services whose ansible-lint is missing: Chiffon's own checks only, instantly."""
    write_playbooks(settings.playbooks_dir, {"sloppy.yml": SLOPPY})
    async for services in _services(settings, str(tmp_path / "missing-ansible-lint")):
        yield services


@pytest.fixture
async def real_lint(settings: Settings) -> AsyncIterator[Services]:
    write_playbooks(settings.playbooks_dir, {"sloppy.yml": SLOPPY})
    init_git(settings.playbooks_dir)
    async for services in _services(settings, ""):
        yield services


async def test_it_caches_suggestions_by_content_hash(no_lint: Services, settings: Settings) -> None:
    first = await no_lint.analyzer.analyze("sloppy.yml")
    started = time.perf_counter()
    again = await no_lint.analyzer.analyze("sloppy.yml")
    cached_s = time.perf_counter() - started

    assert not first.cached and again.cached
    assert [s.id for s in again.suggestions] == [s.id for s in first.suggestions]
    assert cached_s < 0.5
    assert first.lint_error and "ansible-lint is not installed" in first.lint_error
    assert {s.rule for s in first.suggestions} == {
        "chiffon-package-latest",
        "chiffon-command-changed",
        "chiffon-missing-handler",
    }
    latest = next(s for s in first.suggestions if s.rule == "chiffon-package-latest")
    assert (latest.category, latest.file, latest.line) == ("idempotency", "sloppy.yml", 6)
    assert latest.reasoning and latest.fix_diff and "+        state: present" in latest.fix_diff

    (settings.playbooks_dir / "sloppy.yml").write_text(SLOPPY.replace("latest", "present"))
    await no_lint.catalog.scan()
    changed = await no_lint.analyzer.analyze("sloppy.yml")
    assert not changed.cached
    assert "chiffon-package-latest" not in {s.rule for s in changed.suggestions}


@pytest.mark.slow
async def test_it_commits_an_accepted_fix_as_the_person_and_the_finding_is_gone(
    real_lint: Services, settings: Settings
) -> None:
    repo = settings.playbooks_dir
    analysis = await real_lint.analyzer.analyze("sloppy.yml")
    assert analysis.lint_error is None
    latest = next(s for s in analysis.suggestions if s.rule == "package-latest")
    assert (latest.source, latest.fix_by) == ("ansible-lint", "chiffon")

    accepted = await real_lint.analyzer.accept(latest.id, AUTHOR, run_id=7)

    assert accepted.status is SuggestionStatus.ACCEPTED and accepted.run_id == 7
    assert accepted.commit_sha == git(repo, "rev-parse", "HEAD").strip()
    author, subject, body = git(repo, "log", "-1", "--format=%an <%ae>%n%s%n%b").split("\n", 2)
    assert author == AUTHOR
    assert subject == "Fix package-latest in sloppy.yml:6"
    assert "after run #7" in body and "accepted by Ada Lovelace" in body
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == ["sloppy.yml"]
    assert "state: present # keep this comment too" in (repo / "sloppy.yml").read_text()
    # Another fix made for the file as it was would undo this one: refused, a re-check offered.
    stale = next(s for s in analysis.suggestions if s.rule == "no-changed-when")
    with pytest.raises(SuggestionConflict, match=r"changed since .* Re-check playbook:sloppy"):
        await real_lint.analyzer.accept(stale.id, AUTHOR)

    after = await real_lint.analyzer.analyze("sloppy.yml")  # the real linter runs again
    assert not after.cached and after.lint_error is None
    assert "package-latest" not in {s.rule for s in after.suggestions}
    assert "no-changed-when" in {s.rule for s in after.suggestions}


@pytest.mark.slow
async def test_it_checks_a_role_with_the_real_linter_and_its_own_checks(
    real_lint: Services, settings: Settings
) -> None:
    tasks = SLOPPY.split("  tasks:\n")[1].replace("\n    ", "\n").replace("    - name", "- name", 1)
    write_playbooks(settings.playbooks_dir, {"roles/sloppyrole/tasks/main.yml": tasks})
    await real_lint.catalog.scan()

    analysis = await real_lint.analyzer.analyze("role:sloppyrole")

    assert analysis.lint_error is None and analysis.entry == "role:sloppyrole"
    found = {(s.source, s.rule, s.file, s.line) for s in analysis.suggestions}
    where = "roles/sloppyrole/tasks/main.yml"
    assert ("ansible-lint", "package-latest", where, 1) in found
    assert ("ansible-lint", "no-changed-when", where, 6) in found
    assert ("chiffon", "chiffon-missing-handler", where, 6) in found
    latest = next(s for s in analysis.suggestions if s.rule == "package-latest")
    assert latest.fix_by == "chiffon" and latest.fix_diff
    assert "+    state: present # keep this comment too" in latest.fix_diff


@pytest.mark.slow
async def test_it_applies_ansible_lints_own_fix(real_lint: Services, settings: Settings) -> None:
    analysis = await real_lint.analyzer.analyze("sloppy.yml")
    fqcn = next(s for s in analysis.suggestions if s.rule.startswith("fqcn"))
    assert fqcn.fix_by == "ansible-lint" and fqcn.fix_diff is None  # computed on demand

    prepared = await real_lint.analyzer.prepare_fix(fqcn.id)
    assert prepared.fix_diff and "+      ansible.builtin.apt:" in prepared.fix_diff
    accepted = await real_lint.analyzer.accept(fqcn.id, AUTHOR)

    assert accepted.commit_sha
    after = await real_lint.analyzer.analyze("sloppy.yml")
    assert not any(s.rule.startswith("fqcn") for s in after.suggestions)
    assert git(settings.playbooks_dir, "log", "-1", "--format=%s").startswith("Fix fqcn")


async def test_it_applies_a_fix_without_a_commit_outside_git(
    no_lint: Services, settings: Settings
) -> None:
    analysis = await no_lint.analyzer.analyze("sloppy.yml")
    latest = next(s for s in analysis.suggestions if s.rule == "chiffon-package-latest")

    accepted = await no_lint.analyzer.accept(latest.id, "Ada")

    assert accepted.status is SuggestionStatus.ACCEPTED
    assert accepted.commit_sha is None and accepted.decided_by == "Ada <>"
    assert "state: present" in (settings.playbooks_dir / "sloppy.yml").read_text()
    assert not (settings.playbooks_dir / ".git").exists()


async def test_it_refuses_a_fix_whose_file_changed_since(
    no_lint: Services, settings: Settings
) -> None:
    analysis = await no_lint.analyzer.analyze("sloppy.yml")
    latest = next(s for s in analysis.suggestions if s.rule == "chiffon-package-latest")
    persons_edit = SLOPPY.replace("Install nginx", "Install the web server")
    (settings.playbooks_dir / "sloppy.yml").write_text(persons_edit)

    with pytest.raises(SuggestionConflict, match=r"sloppy\.yml changed since") as refused:
        await no_lint.analyzer.accept(latest.id, AUTHOR)

    assert "Re-check playbook:sloppy" in str(refused.value)
    assert (settings.playbooks_dir / "sloppy.yml").read_text() == persons_edit
    assert (await no_lint.analyzer.get_suggestion(latest.id)).status is SuggestionStatus.OPEN


async def test_it_dismisses_with_a_reason_once(no_lint: Services) -> None:
    analysis = await no_lint.analyzer.analyze("sloppy.yml")
    handler = next(s for s in analysis.suggestions if s.rule == "chiffon-missing-handler")

    with pytest.raises(AnalyzerError, match="reason is required"):
        await no_lint.analyzer.dismiss(handler.id, "  ", "Ada")
    with pytest.raises(AnalyzerError, match="has no automatic fix"):
        await no_lint.analyzer.accept(handler.id, AUTHOR)
    dismissed = await no_lint.analyzer.dismiss(handler.id, "the handler comes from a role", "Ada")

    assert dismissed.status is SuggestionStatus.DISMISSED
    assert (dismissed.reason, dismissed.decided_by) == ("the handler comes from a role", "Ada")
    with pytest.raises(SuggestionConflict, match="already dismissed"):
        await no_lint.analyzer.accept(handler.id, AUTHOR)


async def test_it_reports_a_playbook_that_does_not_parse(no_lint: Services) -> None:
    analysis = await no_lint.analyzer.analyze("broken.yml")

    assert [(s.rule, s.category) for s in analysis.suggestions] == [
        ("chiffon-syntax", "error handling")
    ]


async def test_it_names_an_unknown_entry(no_lint: Services) -> None:
    with pytest.raises(AnalyzerError, match="no catalog entry matches 'nothing-here'"):
        await no_lint.analyzer.analyze("nothing-here")


async def test_it_computes_the_rest_of_chiffons_fixes_on_demand(
    no_lint: Services, settings: Settings
) -> None:
    tasks = "".join(
        f"    - name: Read {n}\n      ansible.builtin.command: cat /etc/host{n}\n" for n in range(7)
    )
    write_playbooks(
        settings.playbooks_dir, {"many.yml": SLOPPY.split("  tasks:")[0] + "  tasks:\n" + tasks}
    )
    await no_lint.catalog.scan()

    analysis = await no_lint.analyzer.analyze("many.yml")
    ready = [s.fix_diff is not None for s in analysis.suggestions]
    assert ready == [True] * 5 + [False] * 2
    last = analysis.suggestions[-1]
    prepared = await no_lint.analyzer.prepare_fix(last.id)
    assert prepared.fix_diff is not None
    assert "cat /etc/host6\n+      changed_when: false" in prepared.fix_diff
