"""Walking the playbook repo and hashing what is in it, never leaving the repo.

A symlink is followed only when it resolves inside the repo; directory loops are walked once.
"""

from __future__ import annotations

import configparser
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from chiffon.catalog._entry import Inventory

YAML_SUFFIXES = (".yml", ".yaml")
# Top-level YAML that is never a playbook, whatever it holds.
NOT_PLAYBOOKS = frozenset({"requirements.yml", "requirements.yaml", "galaxy.yml", "galaxy.yaml"})
HOSTS_FILES = ("hosts", "hosts.yml", "hosts.yaml", "hosts.ini")
_CHUNK = 1024 * 1024


def inside(root: Path, path: Path) -> bool:
    """True when ``path`` (after resolving symlinks) is ``root`` or lies under it."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError, ValueError):
        return False


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _listdir(directory: Path) -> list[Path]:
    try:
        return sorted(directory.iterdir())
    except OSError:
        return []


def playbook_files(root: Path) -> list[str]:
    """Repo-relative paths of the YAML files that may be playbooks: at the top and in playbooks/."""
    found: list[str] = []
    folders = [root]
    if (root / "playbooks").is_dir() and inside(root, root / "playbooks"):
        folders.append(root / "playbooks")
    for folder in folders:
        for path in _listdir(folder):
            name = path.name
            if name.startswith(".") or not name.endswith(YAML_SUFFIXES):
                continue
            if name in NOT_PLAYBOOKS or not inside(root, path) or not _is_file(path):
                continue
            found.append(path.relative_to(root).as_posix())
    return found


def role_dirs(root: Path) -> list[str]:
    """Repo-relative paths (``roles/<name>``) of the roles: folders with tasks/main.yml|yaml."""
    roles = root / "roles"
    if not _is_dir(roles) or not inside(root, roles):
        return []
    found: list[str] = []
    for path in _listdir(roles):
        if path.name.startswith(".") or not _is_dir(path) or not inside(root, path):
            continue
        if any(_is_file(path / "tasks" / f"main{suffix}") for suffix in YAML_SUFFIXES):
            found.append(path.relative_to(root).as_posix())
    return found


def tree_files(root: Path, directory: Path) -> list[tuple[str, Path]]:
    """Every file under ``directory`` as ``(path relative to it, path)``, sorted by the former.

    Symlinks are followed only inside ``root``; a directory reached twice is walked once.
    """
    files: list[tuple[str, Path]] = []
    seen: set[Path] = set()

    def walk(folder: Path, prefix: str) -> Iterator[tuple[str, Path]]:
        real = folder.resolve()
        if real in seen:
            return
        seen.add(real)
        for path in _listdir(folder):
            if not inside(root, path):
                continue
            relative = f"{prefix}{path.name}"
            if _is_dir(path):
                yield from walk(path, relative + "/")
            elif _is_file(path):
                yield relative, path

    files.extend(walk(directory, ""))
    return sorted(files)


def hash_file(path: Path) -> str:
    """The sha256 of the file's bytes (of the error, when it cannot be read)."""
    digest = hashlib.sha256()
    _feed(digest, path)
    return digest.hexdigest()


def hash_tree(root: Path, directory: Path) -> str:
    """One sha256 over every file's relative path and bytes under ``directory``, in order."""
    digest = hashlib.sha256()
    for relative, path in tree_files(root, directory):
        digest.update(relative.encode("utf-8", "surrogateescape") + b"\0")
        _feed(digest, path)
        digest.update(b"\0")
    return digest.hexdigest()


def _feed(digest: hashlib._Hash, path: Path) -> None:
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    except OSError as error:
        digest.update(f"unreadable: {error.strerror}".encode())


def inventories(root: Path) -> list[Inventory]:
    """The inventory sources in the repo, ansible.cfg's first (that one is the default)."""
    found: list[Inventory] = []

    def add(path: Path, source: str) -> None:
        if not path.exists() or not inside(root, path):
            return
        relative = os.path.relpath(os.path.normpath(path), root)
        if relative != "." and all(item.path != relative for item in found):
            found.append(Inventory(path=Path(relative).as_posix(), source=source))

    for configured in _configured_inventories(root):
        add(configured, "ansible.cfg")
    add(root / "inventory", "inventory directory")
    for path in _listdir(root / "inventories"):
        if _is_dir(path) and not path.name.startswith("."):
            add(path, "inventories directory")
    for name in HOSTS_FILES:
        if _is_file(root / name):
            add(root / name, "hosts file")
    return found


def _configured_inventories(root: Path) -> list[Path]:
    config_path = root / "ansible.cfg"
    if not _is_file(config_path) or not inside(root, config_path):
        return []
    parser = configparser.ConfigParser(
        interpolation=None, inline_comment_prefixes=(";",), strict=False
    )
    try:
        parser.read_string(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return []  # Ansible would refuse it too; the directories below still count
    value = parser.get("defaults", "inventory", fallback="")
    paths: list[Path] = []
    for item in value.split(","):
        item = item.strip()
        if item:
            path = Path(item).expanduser()
            paths.append(path if path.is_absolute() else root / path)
    return paths
