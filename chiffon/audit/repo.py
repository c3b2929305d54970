"""The audit repo adapter: the only file that imports dulwich.

Commits are built straight in the object store (blob, nested trees, commit) and HEAD's branch is
moved with a compare-and-swap, so no working tree or index is involved and a half-written
commit is never visible: objects are content-addressed and only the ref update publishes them.
Every function here blocks (disk I/O); call it through ``asyncio.to_thread``.
"""

from __future__ import annotations

import random
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dulwich.errors import NotGitRepository, NotTreeError
from dulwich.file import FileLocked
from dulwich.object_store import BaseObjectStore
from dulwich.objects import ZERO_SHA, Blob, Commit, ObjectID, ShaFile, Tree
from dulwich.refs import HEADREF
from dulwich.repo import Repo

__all__ = ["AuditRepo", "AuditRepoError", "FileLookup", "commit_paths", "repo_head"]

FILE_MODE = stat.S_IFREG | 0o644
DEFAULT_BRANCH = b"main"
# Another process (a second instance on the same data dir) may move or lock the branch between
# our read of HEAD and our ref update; rebuild on the new head a few times before giving up.
MAX_ATTEMPTS = 20


class AuditRepoError(Exception):
    """The audit repo cannot be written; the message says why."""


def repo_head(path: Path) -> str | None:
    """The HEAD commit sha of the git repository holding ``path`` (found the way git finds it,
    walking up from ``path``); None when there is no repository or it has no commits."""
    try:
        with Repo.discover(str(path)) as repo:
            return repo.head().decode("ascii")
    except (NotGitRepository, KeyError, OSError):
        return None


def commit_paths(root: Path, files: dict[str, bytes], message: str, author: str) -> str | None:
    """Write ``files`` (paths relative to ``root``) and commit exactly those paths.

    ``root`` is a directory in a working tree (the playbook repo). Each file is written
    atomically (tmp then rename). When ``root`` is inside a git repository, one commit on top of
    HEAD holds the new contents of these paths only (whatever else a person has staged stays
    staged, not committed) and the index is updated to match; returns its sha. Returns None when
    ``root`` is in no git repository (the files are written all the same). Raises
    ``AuditRepoError`` when HEAD keeps moving, ``ValueError`` for a path git cannot store.
    """
    for relative, content in files.items():
        _split(relative)
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.chiffon-tmp")
        tmp.write_bytes(content)
        tmp.replace(target)
    try:
        repo = Repo.discover(str(root))
    except NotGitRepository:
        return None
    with repo:
        top = Path(repo.path).resolve()
        in_repo = {
            (root.resolve() / relative).relative_to(top).as_posix(): content
            for relative, content in files.items()
        }
        reflog = b"commit: " + message.splitlines()[0].encode("utf-8") if message else b"commit"
        store = repo.object_store
        for _ in range(MAX_ATTEMPTS):
            parent = _current_head(repo)
            tree_id = _commit(store, parent).tree if parent is not None else None
            new_objects: list[ShaFile] = []
            for path_in_repo, content in in_repo.items():
                blob = Blob.from_string(content)
                new_objects.append(blob)
                tree_id = _tree_with(store, tree_id, _split(path_in_repo), blob.id, new_objects)
            assert tree_id is not None
            commit = _new_commit(tree_id, parent, message, author)
            new_objects.append(commit)
            for obj in new_objects:
                store.add_object(obj)
            expected = parent if parent is not None else ZERO_SHA
            try:
                if repo.refs.set_if_equals(HEADREF, expected, commit.id, message=reflog):
                    repo.get_worktree().stage(sorted(in_repo))
                    return commit.id.decode("ascii")
            except FileLocked:
                pass
            time.sleep(random.uniform(0.001, 0.02))
        raise AuditRepoError(f"the git repository at {top} kept changing while committing")


@dataclass(frozen=True, slots=True)
class FileLookup:
    """What ``AuditRepo.read_files`` found for one (commit, path)."""

    commit_exists: bool
    content: bytes | None


class AuditRepo:
    """An append-only git repository of files; bare (no checkout), created on first write."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def exists(self) -> bool:
        """True when ``path`` holds a git repository."""
        try:
            with Repo(str(self.path)):
                return True
        except (NotGitRepository, OSError):
            return False

    def head(self) -> str | None:
        """The sha HEAD points at; None when the repo is missing or has no commits."""
        with self._reading() as repo:
            head = _current_head(repo) if repo is not None else None
            return head.decode("ascii") if head is not None else None

    def commit_file(self, path_in_repo: str, content: bytes, message: str, author: str) -> str:
        """Add or replace one file in HEAD's tree as a new commit on top of HEAD.

        Returns the new commit's sha. Raises ``AuditRepoError`` when the branch keeps moving
        under us, ``ValueError`` for a path that git cannot store.
        """
        parts = _split(path_in_repo)
        blob = Blob.from_string(content)
        reflog = b"commit: " + message.splitlines()[0].encode("utf-8") if message else b"commit"
        with self._writing() as repo:
            store = repo.object_store
            for _ in range(MAX_ATTEMPTS):
                parent = _current_head(repo)
                base_tree = _commit(store, parent).tree if parent is not None else None
                new_objects: list[ShaFile] = [blob]
                tree_id = _tree_with(store, base_tree, parts, blob.id, new_objects)
                commit = _new_commit(tree_id, parent, message, author)
                new_objects.append(commit)
                # Referenced objects first, so no reader ever finds a commit with a missing tree.
                for obj in new_objects:
                    store.add_object(obj)
                # ZERO_SHA as the expected value means "the branch must not exist yet".
                expected = parent if parent is not None else ZERO_SHA
                try:
                    if repo.refs.set_if_equals(HEADREF, expected, commit.id, message=reflog):
                        return commit.id.decode("ascii")
                except FileLocked:
                    pass
                time.sleep(random.uniform(0.001, 0.02))  # let the other writer finish
            raise AuditRepoError(
                f"the audit repo {self.path} kept changing while committing {path_in_repo}; "
                "is another process writing to it?"
            )

    def read_file(self, sha: str, path_in_repo: str) -> bytes | None:
        """The file's bytes in commit ``sha``; None when the commit or the file is not there."""
        with self._reading() as repo:
            if repo is None:
                return None
            return _read(repo, sha, path_in_repo)

    def commit_exists(self, sha: str) -> bool:
        """True when ``sha`` names a commit object in the repo."""
        with self._reading() as repo:
            return repo is not None and _find_commit(repo.object_store, sha) is not None

    def history(self) -> set[str]:
        """The shas of every commit reachable from HEAD (empty for a missing or empty repo)."""
        with self._reading() as repo:
            if repo is None:
                return set()
            head = _current_head(repo)
            if head is None:
                return set()
            return {entry.commit.id.decode("ascii") for entry in repo.get_walker([head])}

    def read_files(self, wanted: list[tuple[str, str]]) -> list[FileLookup]:
        """For each (commit sha, path): whether the commit exists and the file's bytes in it.

        One repository open for the lot (what ``verify`` needs for thousands of runs).
        """
        with self._reading() as repo:
            if repo is None:
                return [FileLookup(commit_exists=False, content=None) for _ in wanted]
            found: list[FileLookup] = []
            for sha, path_in_repo in wanted:
                exists = _find_commit(repo.object_store, sha) is not None
                content = _read(repo, sha, path_in_repo) if exists else None
                found.append(FileLookup(commit_exists=exists, content=content))
            return found

    @contextmanager
    def _reading(self) -> Iterator[Repo | None]:
        try:
            repo = Repo(str(self.path))
        except (NotGitRepository, OSError):
            yield None
            return
        with repo:
            yield repo

    @contextmanager
    def _writing(self) -> Iterator[Repo]:
        try:
            repo = Repo(str(self.path))
        except NotGitRepository:
            self.path.mkdir(parents=True, exist_ok=True)
            if any(self.path.iterdir()):
                raise AuditRepoError(
                    f"{self.path} is not empty and not a git repository; "
                    "move it away or point CHIFFON_DATA_DIR elsewhere"
                ) from None
            repo = Repo.init_bare(str(self.path), default_branch=DEFAULT_BRANCH)
        with repo:
            # An audit commit must survive a power cut once the database says it exists.
            repo.object_store.fsync_object_files = True
            yield repo


def _split(path_in_repo: str) -> list[bytes]:
    parts = [part.encode("utf-8") for part in path_in_repo.split("/")]
    if not parts or any(part in (b"", b".", b"..", b".git") for part in parts):
        raise ValueError(f"not a path git can store: {path_in_repo!r}")
    return parts


def _current_head(repo: Repo) -> ObjectID | None:
    try:
        return repo.refs[HEADREF]
    except KeyError:
        return None


def _find_commit(store: BaseObjectStore, sha: str) -> Commit | None:
    if len(sha) != 40 or any(c not in "0123456789abcdef" for c in sha):
        return None
    try:
        obj = store[ObjectID(sha.encode("ascii"))]
    except KeyError:
        return None
    return obj if isinstance(obj, Commit) else None


def _commit(store: BaseObjectStore, sha: ObjectID) -> Commit:
    found = _find_commit(store, sha.decode("ascii"))
    if found is None:
        raise AuditRepoError(f"HEAD points at {sha.decode('ascii')}, which is not a commit")
    return found


def _read(repo: Repo, sha: str, path_in_repo: str) -> bytes | None:
    store = repo.object_store
    commit = _find_commit(store, sha)
    if commit is None:
        return None
    try:
        root = store[commit.tree]
        if not isinstance(root, Tree):
            return None
        _mode, blob_id = root.lookup_path(store.__getitem__, path_in_repo.encode("utf-8"))
        blob = store[blob_id]
    except (KeyError, ValueError, NotTreeError):  # NotTreeError: a path part is a file
        return None
    return blob.data if isinstance(blob, Blob) else None


def _tree_with(
    store: BaseObjectStore,
    tree_id: ObjectID | None,
    parts: list[bytes],
    blob_id: ObjectID,
    new_objects: list[ShaFile],
) -> ObjectID:
    """A copy of tree ``tree_id`` (None: empty) with ``parts`` pointing at the blob.

    Appends every new tree to ``new_objects``, innermost first; returns the new tree's id.
    """
    tree = Tree()
    if tree_id is not None:
        existing = store[tree_id]
        assert isinstance(existing, Tree)
        for entry in existing.iteritems():
            assert entry.path is not None and entry.mode is not None and entry.sha is not None
            tree.add(entry.path, entry.mode, entry.sha)
    name = parts[0]
    if len(parts) == 1:
        tree.add(name, FILE_MODE, blob_id)
    else:
        subtree: ObjectID | None = None
        if name in tree:
            mode, sha = tree[name]
            subtree = sha if stat.S_ISDIR(mode) else None
        tree.add(name, stat.S_IFDIR, _tree_with(store, subtree, parts[1:], blob_id, new_objects))
    new_objects.append(tree)
    return tree.id


def _new_commit(tree_id: ObjectID, parent: ObjectID | None, message: str, author: str) -> Commit:
    commit = Commit()
    commit.tree = tree_id
    commit.parents = [parent] if parent is not None else []
    commit.author = commit.committer = author.encode("utf-8")
    commit.author_time = commit.commit_time = int(time.time())
    commit.author_timezone = commit.commit_timezone = 0
    commit.encoding = b"UTF-8"
    commit.message = message.encode("utf-8")
    return commit
