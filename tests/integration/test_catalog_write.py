"""Writing files into the playbook repo: a git commit of exactly those paths, then a rescan."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from chiffon.audit import commit_paths
from chiffon.catalog import CatalogService, PathOutsideRepo
from chiffon.db import SessionFactory

PLAYBOOK = """\
- name: Greet
  hosts: all
  tasks:
    - name: Say hi
      ansible.builtin.debug:
        msg: hi
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


def init_git(repo: Path) -> None:
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=T", "-c", "user.email=t@example.org", "commit", "-qm", "start")


@pytest.fixture
def catalog(session_factory: SessionFactory, sample_repo: Path) -> CatalogService:
    return CatalogService(session_factory, sample_repo, commit_paths=commit_paths)


async def test_it_commits_exactly_the_written_paths(
    catalog: CatalogService, sample_repo: Path
) -> None:
    init_git(sample_repo)
    (sample_repo / "hello.yml").write_text("# a person's change, staged\n" + PLAYBOOK)
    git(sample_repo, "add", "hello.yml")
    saved = await catalog.write_files(
        {"playbooks/greet.yml": PLAYBOOK}, "Add greet playbook", "Ada <ada@example.org>"
    )
    assert saved.commit is not None and saved.paths == ["playbooks/greet.yml"]
    assert git(sample_repo, "rev-parse", "HEAD").strip() == saved.commit
    assert git(sample_repo, "show", "--name-only", "--format=%an|%s", "HEAD").split() == [
        "Ada|Add",
        "greet",
        "playbook",
        "playbooks/greet.yml",
    ]
    # The person's staged change is still staged and not in our commit; our file is clean.
    status = git(sample_repo, "status", "--porcelain")
    assert "M  hello.yml" in status and "greet.yml" not in status
    assert (await catalog.resolve("playbooks/greet.yml")).name == "greet"


async def test_it_writes_without_a_commit_outside_git(
    catalog: CatalogService, sample_repo: Path
) -> None:
    saved = await catalog.write_files({"greet.yml": PLAYBOOK}, "Add greet", "Ada <a@b.c>")
    assert saved.commit is None
    assert (sample_repo / "greet.yml").read_text() == PLAYBOOK


@pytest.mark.parametrize("path", ["../escape.yml", "/etc/passwd", "roles/../../x.yml"])
async def test_it_refuses_paths_outside_the_repo(
    catalog: CatalogService, sample_repo: Path, path: str
) -> None:
    with pytest.raises(PathOutsideRepo):
        await catalog.write_files({path: PLAYBOOK}, "nope", "Ada <a@b.c>")
    assert not (sample_repo.parent / "escape.yml").exists()
