"""`chiffon diagnose` and `chiffon analyze` in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests._analyzer import FAILING, SLOPPY, write_playbooks
from tests.integration.test_cli import Chiffon, _make, last_json

pytestmark = pytest.mark.slow


@pytest.fixture
def chiffon_sqlite(tmp_path: Path, sample_repo: Path) -> Chiffon:
    """The command on the SQLite file in its data dir."""
    return _make(tmp_path, sample_repo, None)


def test_it_diagnoses_a_run_and_analyzes_an_entry(chiffon_sqlite: Chiffon) -> None:
    write_playbooks(
        chiffon_sqlite.repo, {"nonzero.yml": FAILING["nonzero.yml"], "sloppy.yml": SLOPPY}
    )
    no_lint = {"CHIFFON_ANSIBLE_LINT": str(chiffon_sqlite.cwd / "no-lint")}
    run = last_json(chiffon_sqlite("run", "nonzero.yml", "--json", **no_lint).stdout)

    text = chiffon_sqlite("diagnose", str(run["run_id"]), **no_lint)
    as_json = chiffon_sqlite("diagnose", str(run["run_id"]), "--json", **no_lint)
    analyze = chiffon_sqlite("analyze", "nonzero.yml", "--json", **no_lint)
    missing = chiffon_sqlite("diagnose", "424242", **no_lint)
    sloppy = chiffon_sqlite("analyze", "sloppy", **no_lint)

    assert text.returncode == 0, text.stderr
    assert f"Run {run['run_id']}: Command returned non-zero" in text.stdout
    assert "where: nonzero.yml:5" in text.stdout
    diagnosis = json.loads(as_json.stdout)["diagnosis"]
    assert (diagnosis["class"], diagnosis["rc"]) == ("nonzero", 2)
    assert analyze.returncode == 0  # nothing open: changed_when is set
    assert "not installed" in json.loads(analyze.stdout)["lint_error"]
    assert missing.returncode == 2
    assert missing.stderr.strip() == "chiffon: error: There is no run 424242."
    # Open suggestions, as text: exit code 1, each with its category, rule, place and fix.
    assert sloppy.returncode == 1, sloppy.stderr
    assert "playbook:sloppy (sloppy.yml)" in sloppy.stdout
    assert "[idempotency] chiffon-package-latest sloppy.yml:6 (major, open)" in sloppy.stdout
    assert "fix: by chiffon (diff ready)" in sloppy.stdout
    assert "3 suggestions, 3 open" in sloppy.stdout
