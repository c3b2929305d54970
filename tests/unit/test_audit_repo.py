"""The dulwich adapter, checked against real repositories with the real git CLI."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from chiffon.audit.repo import AuditRepo, AuditRepoError, FileLookup, repo_head

AUTHOR = "Chiffon <chiffon@localhost>"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        [
            "git",
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-C",
            str(repo),
            *args,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def make_git_repo(path: Path, commits: int = 1) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    for number in range(commits):
        (path / "site.yml").write_text(f"# version {number}\n")
        git(path, "add", "site.yml")
        git(path, "commit", "-q", "-m", f"version {number}")
    return path


def test_it_commits_a_file_in_nested_trees_that_git_reads(tmp_path: Path) -> None:
    repo = AuditRepo(tmp_path / "audit")

    sha = repo.commit_file(
        ".audit/runs/1.json", b'{"run_id": 1}\n', "run 1: hello succeeded\n", AUTHOR
    )

    assert git(repo.path, "log", "--format=%H %s") == f"{sha} run 1: hello succeeded\n"
    assert git(repo.path, "show", f"{sha}:.audit/runs/1.json") == '{"run_id": 1}\n'
    assert git(repo.path, "log", "-1", "--format=%an <%ae>") == AUTHOR + "\n"
    git(repo.path, "fsck", "--strict")
    assert repo.head() == sha
    assert repo.exists()


def test_it_appends_commits_and_keeps_the_other_files(tmp_path: Path) -> None:
    repo = AuditRepo(tmp_path / "audit")
    first = repo.commit_file(".audit/runs/1.json", b"one\n", "run 1", AUTHOR)
    second = repo.commit_file(".audit/runs/2.json", b"two\n", "run 2", AUTHOR)
    third = repo.commit_file(".audit/runs/1.json", b"one again\n", "run 1 again", AUTHOR)

    assert git(repo.path, "rev-list", "HEAD").split() == [third, second, first]
    assert git(repo.path, "ls-tree", "-r", "--name-only", "HEAD").split() == [
        ".audit/runs/1.json",
        ".audit/runs/2.json",
    ]
    assert repo.read_file(third, ".audit/runs/2.json") == b"two\n"
    assert repo.read_file(second, ".audit/runs/1.json") == b"one\n"
    assert repo.read_file(third, ".audit/runs/1.json") == b"one again\n"
    assert repo.history() == {first, second, third}


def test_it_reads_none_for_what_is_not_there(tmp_path: Path) -> None:
    repo = AuditRepo(tmp_path / "audit")
    sha = repo.commit_file(".audit/runs/1.json", b"one\n", "run 1", AUTHOR)
    blob = git(repo.path, "rev-parse", f"{sha}:.audit/runs/1.json").strip()

    assert repo.read_file(sha, ".audit/runs/2.json") is None
    assert repo.read_file(sha, ".audit/runs/1.json/deeper") is None
    assert repo.read_file("0" * 40, ".audit/runs/1.json") is None
    assert repo.read_file("not a sha", ".audit/runs/1.json") is None
    assert repo.read_file(blob, ".audit/runs/1.json") is None
    assert repo.commit_exists(sha)
    assert not repo.commit_exists(blob)
    assert not repo.commit_exists("f" * 40)
    assert repo.read_files([(sha, ".audit/runs/1.json"), ("f" * 40, ".audit/runs/1.json")]) == [
        FileLookup(commit_exists=True, content=b"one\n"),
        FileLookup(commit_exists=False, content=None),
    ]


def test_it_treats_a_missing_repo_as_empty_without_creating_it(tmp_path: Path) -> None:
    repo = AuditRepo(tmp_path / "nowhere")

    assert not repo.exists()
    assert repo.head() is None
    assert repo.history() == set()
    assert not repo.commit_exists("a" * 40)
    assert repo.read_files([("a" * 40, "x.json")]) == [FileLookup(False, None)]
    assert not repo.path.exists()


def test_it_commits_on_top_of_a_repo_made_by_git(tmp_path: Path) -> None:
    path = make_git_repo(tmp_path / "existing")
    before = git(path, "rev-parse", "HEAD").strip()

    sha = AuditRepo(path).commit_file(".audit/runs/7.json", b"seven\n", "run 7", AUTHOR)

    assert git(path, "rev-parse", "HEAD").strip() == sha
    assert git(path, "rev-parse", f"{sha}^").strip() == before
    assert git(path, "show", f"{sha}:site.yml") == "# version 0\n"


def test_it_refuses_a_directory_that_is_not_empty_and_not_a_repo(tmp_path: Path) -> None:
    (tmp_path / "audit").mkdir()
    (tmp_path / "audit" / "notes.txt").write_text("mine\n")

    with pytest.raises(AuditRepoError, match="not empty and not a git repository"):
        AuditRepo(tmp_path / "audit").commit_file("a.json", b"{}\n", "x", AUTHOR)


@pytest.mark.parametrize("bad", ["", "/abs.json", "a//b.json", "../out.json", ".git/config"])
def test_it_refuses_paths_git_cannot_store(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="not a path git can store"):
        AuditRepo(tmp_path / "audit").commit_file(bad, b"{}\n", "x", AUTHOR)


def test_it_loses_no_commit_when_two_writers_race(tmp_path: Path) -> None:
    # Two adapters on one path stand for two processes: only the ref's compare-and-swap
    # (and its lock file) keeps them from overwriting each other's commits.
    path = tmp_path / "audit"
    AuditRepo(path).commit_file("start.json", b"{}\n", "start", AUTHOR)
    failures: list[BaseException] = []

    def write(writer: int) -> None:
        repo = AuditRepo(path)
        try:
            for number in range(10):
                name = f".audit/runs/{writer}-{number}.json"
                repo.commit_file(name, b"{}\n", name, AUTHOR)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=write, args=(writer,)) for writer in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert git(path, "rev-list", "--count", "HEAD") == "21\n"
    assert len(git(path, "ls-tree", "-r", "--name-only", "HEAD").split()) == 21
    git(path, "fsck", "--strict")


def test_it_reads_the_head_of_a_git_repo(tmp_path: Path) -> None:
    path = make_git_repo(tmp_path / "playbooks", commits=2)

    assert repo_head(path) == git(path, "rev-parse", "HEAD").strip()


def test_it_reads_the_head_from_a_subdirectory_like_git(tmp_path: Path) -> None:
    path = make_git_repo(tmp_path / "checkout")
    (path / "playbooks").mkdir()

    assert repo_head(path / "playbooks") == git(path, "rev-parse", "HEAD").strip()


def test_it_has_no_head_outside_a_repo(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()

    assert repo_head(tmp_path / "plain") is None
    assert repo_head(tmp_path / "missing") is None


def test_it_has_no_head_in_an_empty_repo(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    git(tmp_path / "empty", "init", "-q")

    assert repo_head(tmp_path / "empty") is None
