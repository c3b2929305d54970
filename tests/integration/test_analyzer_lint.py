"""The ansible-lint adapter against the real ansible-lint (one shared run per module)."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest

from chiffon.analyzer import lint
from tests._analyzer import BROKEN, SLOPPY, write_playbooks


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lint-repo")
    write_playbooks(root, {"sloppy.yml": SLOPPY, "broken.yml": BROKEN})
    return root


@pytest.fixture(scope="module")
def report(repo: Path) -> lint.LintReport:
    return asyncio.run(lint.lint(lint.default_executable(), repo, ["sloppy.yml", "broken.yml"]))


@pytest.mark.slow
def test_it_reports_ansible_lints_findings_with_file_and_line(report: lint.LintReport) -> None:
    assert report.error is None
    found = {(f.rule, f.path, f.line) for f in report.findings}
    assert ("package-latest", "sloppy.yml", 6) in found
    assert ("fqcn[action-core]", "sloppy.yml", 7) in found
    assert ("no-changed-when", "sloppy.yml", 11) in found
    assert all(f.severity and f.message for f in report.findings)


@pytest.mark.slow
def test_it_reports_a_playbook_that_does_not_parse_without_crashing(
    report: lint.LintReport,
) -> None:
    broken = [f for f in report.findings if f.path == "broken.yml"]
    assert [f.rule for f in broken] == ["load-failure[yaml]"]
    assert broken[0].line == 7


@pytest.mark.slow
async def test_it_computes_a_fix_on_a_scratch_copy(repo: Path) -> None:
    fixed, error = await lint.fix(lint.default_executable(), repo, "sloppy.yml", "fqcn")

    assert error is None and fixed is not None
    assert "ansible.builtin.apt:" in fixed
    assert "# A person's comment that a fix must keep." in fixed
    assert (repo / "sloppy.yml").read_text() == SLOPPY  # the repo is not touched


async def test_it_says_clearly_when_ansible_lint_is_missing(tmp_path: Path) -> None:
    report = await lint.lint(str(tmp_path / "no-such-ansible-lint"), tmp_path, ["x.yml"])

    assert report.findings == ()
    assert report.error is not None and "ansible-lint is not installed" in report.error
    assert "CHIFFON_ANSIBLE_LINT" in report.error


def _script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


async def test_it_says_clearly_when_ansible_lint_crashes(tmp_path: Path) -> None:
    crashing = _script(tmp_path / "ansible-lint", 'echo "Traceback: boom" >&2\nexit 3\n')
    garbage = _script(tmp_path / "garbage-lint", "echo 'not json'\nexit 0\n")

    crashed = await lint.lint(crashing, tmp_path, ["x.yml"])
    nonsense = await lint.lint(garbage, tmp_path, ["x.yml"])

    assert crashed.error == "ansible-lint failed (exit code 3): Traceback: boom"
    assert nonsense.error is not None and "exit code 0" in nonsense.error
    (tmp_path / "x.yml").write_text(SLOPPY)
    fixed, error = await lint.fix(crashing, tmp_path, "x.yml", "fqcn")
    assert fixed is None and error is not None and "boom" in error
    fixed, error = await lint.fix(crashing, tmp_path, "gone.yml", "fqcn")
    assert fixed is None and error == "gone.yml cannot be read in the playbook repo."


async def test_it_stops_a_linter_that_hangs(tmp_path: Path) -> None:
    hanging = _script(tmp_path / "slow-lint", "exec sleep 30\n")

    report = await lint.lint(hanging, tmp_path, ["x.yml"], timeout_s=0.5)

    assert report.error is not None and "did not finish within 0.5 s" in report.error
