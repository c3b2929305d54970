"""`chiffon plan` announcing drafts and `chiffon draft [--save]`, in a real subprocess."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_catalog_write import git, init_git
from tests.integration.test_cli import Chiffon, _make


@pytest.fixture
def chiffon(tmp_path: Path, sample_repo: Path) -> Chiffon:
    init_git(sample_repo)
    return _make(tmp_path, sample_repo, None)


@pytest.mark.slow
def test_it_shows_then_saves_a_draft_and_run_refuses_it(chiffon: Chiffon) -> None:
    planned = chiffon("plan", "install htop and say hello")
    assert planned.returncode == 0, planned.stderr
    assert "no match" in planned.stdout and "a draft is available: htop.yml" in planned.stdout

    shown = chiffon("draft", "install htop and say hello")
    assert shown.returncode == 0, shown.stderr
    assert "# would be saved as htop.yml" in shown.stdout
    assert "ansible.builtin.package:" in shown.stdout and "generated: true" in shown.stdout
    assert not (chiffon.repo / "htop.yml").exists()

    saved = chiffon("draft", "install htop", "--save", "--author", "Ada <ada@example.org>")
    assert saved.returncode == 0, saved.stderr
    head = git(chiffon.repo, "rev-parse", "HEAD").strip()
    assert f"saved htop.yml (commit {head})" in saved.stdout
    assert git(chiffon.repo, "log", "-1", "--format=%an").strip() == "Ada"

    refused = chiffon("run", "htop")
    assert refused.returncode == 2
    assert "nobody has reviewed it yet" in refused.stderr and "Traceback" not in refused.stderr

    again = chiffon("draft", "say hello")
    assert (
        again.stdout.strip() == "every step matched an entry in the playbook repo: nothing to draft"
    )


def test_it_rejects_an_empty_draft_request(chiffon: Chiffon) -> None:
    result = chiffon("draft", "  ")
    assert result.returncode == 2
    assert result.stderr.startswith("chiffon: error: the request is empty")
