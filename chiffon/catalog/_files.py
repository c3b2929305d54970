"""Walking the playbook repo and hashing what is in it, never leaving the repo.

A symlink is followed only when it resolves inside the repo; directory loops are walked once.
"""

from __future__ import annotations

import configparser
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG

from chiffon.catalog._entry import Inventory

YAML_SUFFIXES = (".yml", ".yaml")
# Top-level YAML that is never a playbook, whatever it holds.
NOT_PLAYBOOKS = frozenset({"requirements.yml", "requirements.yaml", "galaxy.yml", "galaxy.yaml"})
HOSTS_FILES = ("hosts", "hosts.yml", "hosts.yaml", "hosts.ini")
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Found:
    """A file found in the repo: its path relative to the folder walked, where to open it
    (symlinks not resolved) and its stat (symlinks followed)."""

    relative: str
    path: str
    stat: os.stat_result


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


def playbook_files(root: Path) -> list[Found]:
    """The YAML files that may be playbooks, at the top and in playbooks/, with their stat."""
    found: list[Found] = []
    real_root = os.path.realpath(root)
    folders = [(str(root), real_root, "")]
    playbooks = _real_inside(real_root, os.path.join(root, "playbooks"))
    if playbooks is not None and _is_dir(Path(playbooks)):
        folders.append((os.path.join(root, "playbooks"), playbooks, "playbooks/"))
    for folder, real_folder, prefix in folders:
        for item in _scandir(folder):
            name = item.name
            if name.startswith(".") or not name.endswith(YAML_SUFFIXES) or name in NOT_PLAYBOOKS:
                continue
            if _entry_inside(real_root, real_folder, item) is None:
                continue
            stat = _file_stat(item)
            if stat is not None:
                found.append(Found(prefix + name, item.path, stat))
    return found


def role_dirs(root: Path) -> list[str]:
    """Repo-relative paths (``roles/<name>``) of the roles: folders with tasks/main.yml|yaml."""
    real_root = os.path.realpath(root)
    roles = _real_inside(real_root, os.path.join(root, "roles"))
    if roles is None or not _is_dir(Path(roles)):
        return []
    found: list[str] = []
    for item in _scandir(os.path.join(root, "roles")):
        if item.name.startswith(".") or not _entry_is_dir(item):
            continue
        if _entry_inside(real_root, roles, item) is None:
            continue
        if any(_is_file(Path(item.path, "tasks", f"main{suffix}")) for suffix in YAML_SUFFIXES):
            found.append(f"roles/{item.name}")
    return found


def tree_files(root: Path, directory: Path) -> list[tuple[str, Path]]:
    """Every file under ``directory`` as ``(path relative to it, path)``, sorted by the former.

    Symlinks are followed only inside ``root``; a directory reached twice is walked once.
    """
    return [(found.relative, Path(found.path)) for found in tree_stats(root, directory)]


def tree_stats(root: Path, directory: Path) -> list[Found]:
    """Every file under ``directory`` with its stat, as ``tree_files`` finds them."""
    real_root = os.path.realpath(root)
    files: list[Found] = []
    seen: set[str] = set()

    def walk(folder: str, real_folder: str, prefix: str) -> None:
        if real_folder in seen:
            return
        seen.add(real_folder)
        for item in _scandir(folder):
            real = _entry_inside(real_root, real_folder, item)
            if real is None:
                continue
            relative = f"{prefix}{item.name}"
            if _entry_is_dir(item):
                walk(item.path, real, relative + "/")
            else:
                stat = _file_stat(item)
                if stat is not None:
                    files.append(Found(relative, item.path, stat))

    start = _real_inside(real_root, str(directory))
    if start is not None:
        walk(str(directory), start, "")
    return sorted(files, key=lambda found: found.relative)


def _scandir(folder: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as items:
            return sorted(items, key=lambda item: item.name)
    except OSError:
        return []


def _real_inside(real_root: str, path: str) -> str | None:
    """The real path of ``path`` when it is ``real_root`` or lies under it, else None."""
    try:
        real = os.path.realpath(path)
    except (OSError, ValueError):
        return None
    return real if real == real_root or real.startswith(real_root + os.sep) else None


def _entry_inside(real_root: str, real_folder: str, item: os.DirEntry[str]) -> str | None:
    # Resolving costs a system call per path component: only a symlink can lead out of a
    # folder that is itself inside the repo.
    try:
        link = item.is_symlink()
    except OSError:
        return None
    if not link:
        return os.path.join(real_folder, item.name)
    return _real_inside(real_root, item.path)


def _entry_is_dir(item: os.DirEntry[str]) -> bool:
    try:
        return item.is_dir()
    except OSError:
        return False


def _file_stat(item: os.DirEntry[str]) -> os.stat_result | None:
    """The file's stat (following a symlink), or None when it is not a regular file."""
    try:
        stat = item.stat()
    except OSError:
        return None
    return stat if S_ISREG(stat.st_mode) else None


def hash_file(path: Path) -> str:
    """The sha256 of the file's bytes (of the error, when it cannot be read)."""
    digest = hashlib.sha256()
    _feed(digest, path)
    return digest.hexdigest()


def hash_tree(root: Path, directory: Path) -> str:
    """One sha256 over every file's relative path and bytes under ``directory``, in order."""
    return hash_found(tree_stats(root, directory))


def hash_found(files: list[Found]) -> str:
    """``hash_tree`` of the files ``tree_stats`` found."""
    digest = hashlib.sha256()
    for found in files:
        digest.update(found.relative.encode("utf-8", "surrogateescape") + b"\0")
        _feed(digest, Path(found.path))
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
