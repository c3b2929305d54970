"""Discovery: what the playbook repo offers, as entries. Pure file work, no database.

``find_sources`` hashes the candidate files, reading only those whose stat changed since the
``known`` hashes it is given; ``rebuild`` parses only what changed: an entry given in
``stored`` whose file (or role folder) still has the same content hash is returned as it is.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from chiffon.catalog._entry import CatalogError, Entry, EntryKind, Inventory, Variable
from chiffon.catalog._files import (
    Found,
    hash_file,
    hash_found,
    inventories,
    playbook_files,
    role_dirs,
    tree_stats,
)
from chiffon.catalog._playbook import ParsedPlaybook, RoleUse, parse_playbook, unique_variables
from chiffon.catalog._role import parse_role
from chiffon.catalog._tasks import unique
from chiffon.catalog._yaml import clean_text

KIND_ORDER = {EntryKind.PLAYBOOK: 0, EntryKind.ROLE: 1, EntryKind.TAG: 2}
# A file's stat is trusted to say "unchanged" only once it last changed this long before it was
# looked at: two writes of the same size within one tick of the file system's clock (a jiffy
# on Linux, 2 s on FAT) leave the same times behind (git's "racily clean" files).
SETTLE_S = 2.0
# Per file (relative path, device, inode, size, mtime, ctime): equal means not rewritten.
Stamp = tuple[tuple[str, int, int, int, int, int], ...]
# ("playbook" | "role", repo-relative path) -> (stamp, content hash)
KnownHashes = dict[tuple[str, str], tuple[Stamp, str]]


@dataclass(frozen=True)
class Sources:
    """The repo's candidate files with their content hashes, before any parsing."""

    playbooks: dict[str, str]  # relative path -> sha256 of the file
    roles: dict[str, str]  # "roles/<name>" -> sha256 over the role's files
    inventories: list[Inventory]
    # The hashes a later call may trust without reading the files again (``known``).
    known: KnownHashes = field(default_factory=dict)
    files_read: int = 0  # files read and hashed (the others' stat was unchanged)


@dataclass(frozen=True)
class Discovery:
    entries: list[Entry]
    inventories: list[Inventory]
    # YAML files that hold no plays, by hash, so the next rebuild need not parse them again.
    not_playbooks: dict[str, str] = field(default_factory=dict)


def check_repo(root: Path) -> None:
    """Raise ``CatalogError`` unless ``root`` is an existing directory."""
    if not root.exists():
        raise CatalogError(
            f"the playbook repo {root} does not exist. Set CHIFFON_PLAYBOOKS_DIR (or pass "
            "--playbooks) to the folder that holds your playbooks, or create it."
        )
    if not root.is_dir():
        raise CatalogError(
            f"the playbook repo {root} is not a directory. Point CHIFFON_PLAYBOOKS_DIR (or "
            "--playbooks) at the folder that holds your playbooks."
        )


def find_sources(
    root: Path, known: KnownHashes | None = None, settle_s: float = SETTLE_S
) -> Sources:
    """Hash every candidate playbook and role under ``root``; raise ``CatalogError`` if no repo.

    A file whose stamp (inode, size, times) is the one in ``known`` is not read again. The
    result's ``known`` holds the hashes of the files that had settled ``settle_s`` before now.
    """
    check_repo(root)
    previous = known or {}
    remembered: KnownHashes = {}
    trusted_before = time.time_ns() - int(settle_s * 1e9)
    read = 0

    def content_hash(
        kind: str, relative: str, files: list[Found], compute: Callable[[], str]
    ) -> str:
        nonlocal read
        stamp = _stamp(files)
        old = previous.get((kind, relative))
        if old is not None and old[0] == stamp:
            value = old[1]
        else:
            value = compute()
            read += len(files)
        if all(max(f.stat.st_mtime_ns, f.stat.st_ctime_ns) < trusted_before for f in files):
            remembered[(kind, relative)] = (stamp, value)
        return value

    playbooks: dict[str, str] = {}
    for found in playbook_files(root):
        compute = functools.partial(hash_file, Path(found.path))
        playbooks[found.relative] = content_hash("playbook", found.relative, [found], compute)
    roles: dict[str, str] = {}
    for relative in role_dirs(root):
        files = tree_stats(root, root / relative)
        roles[relative] = content_hash(
            "role", relative, files, functools.partial(hash_found, files)
        )
    return Sources(playbooks, roles, inventories(root), remembered, read)


def _stamp(files: list[Found]) -> Stamp:
    return tuple(
        (
            f.relative,
            f.stat.st_dev,
            f.stat.st_ino,
            f.stat.st_size,
            f.stat.st_mtime_ns,
            f.stat.st_ctime_ns,
        )
        for f in files
    )


def discover(root: Path) -> Discovery:
    """Parse the whole repo at ``root``; raise ``CatalogError`` when it is not a directory."""
    return rebuild(root, find_sources(root))


def rebuild(
    root: Path,
    sources: Sources,
    stored: Iterable[Entry] = (),
    not_playbooks: Mapping[str, str] | None = None,
) -> Discovery:
    """Return the entries for ``sources``, reusing ``stored`` ones whose hash still matches.

    Tag entries depend on their site playbook and on the roles they apply: they are rebuilt
    when either changed (a role added or removed counts), and kept otherwise.
    """
    skip = not_playbooks or {}
    old_playbooks: dict[str, Entry] = {}
    old_roles: dict[str, Entry] = {}
    old_tags: dict[str, list[Entry]] = defaultdict(list)
    for entry in stored:
        if entry.kind is EntryKind.PLAYBOOK:
            old_playbooks[entry.path] = entry
        elif entry.kind is EntryKind.ROLE:
            old_roles[entry.path] = entry
        else:
            old_tags[entry.path].append(entry)

    roles: dict[str, Entry] = {}
    roles_changed = set(old_roles) != set(sources.roles)
    for relative, content_hash in sources.roles.items():
        old = old_roles.get(relative)
        if old is not None and old.content_hash == content_hash:
            roles[old.name] = old
        else:
            entry = parse_role(root, relative, content_hash)
            roles[entry.name] = entry
            roles_changed = True

    entries = list(roles.values())
    seen_not_playbooks: dict[str, str] = {}
    for relative, content_hash in sources.playbooks.items():
        old = old_playbooks.get(relative)
        if old is not None and old.content_hash == content_hash:
            entries.append(old)
            if roles_changed and old_tags.get(relative):
                parsed = parse_playbook(root, relative, content_hash)
                entries.extend(tag_entries(parsed, roles) if parsed else [])
            else:
                entries.extend(old_tags.get(relative, []))
            continue
        if skip.get(relative) == content_hash:
            seen_not_playbooks[relative] = content_hash
            continue
        parsed = parse_playbook(root, relative, content_hash)
        if parsed is None:
            seen_not_playbooks[relative] = content_hash
            continue
        entries.append(parsed.entry)
        entries.extend(tag_entries(parsed, roles))
    entries.sort(key=lambda e: (KIND_ORDER[e.kind], e.path, e.name))
    return Discovery(entries, list(sources.inventories), seen_not_playbooks)


def tag_entries(parsed: ParsedPlaybook, roles: Mapping[str, Entry]) -> list[Entry]:
    """One TAG entry per tag with which the site playbook applies roles.

    A tag's variables and task names are those of the roles it applies (sources prefixed with
    the role's folder) after the variables of the plays that apply them.
    """
    by_tag: dict[str, list[RoleUse]] = defaultdict(list)
    for use in parsed.role_uses:
        by_tag[use.tag].append(use)
    return [_tag_entry(parsed.entry, tag, uses, roles) for tag, uses in by_tag.items()]


def _find_role(name: str, roles: Mapping[str, Entry]) -> Entry | None:
    # A play may name a role by path (`roles/web`) as well as by name.
    return roles.get(name) or roles.get(PurePosixPath(name).name)


def _tag_entry(site: Entry, tag: str, uses: list[RoleUse], roles: Mapping[str, Entry]) -> Entry:
    names = unique([use.role for use in uses])
    found = {name: _find_role(name, roles) for name in names}
    digest = hashlib.sha256(f"tag\0{tag}\0{site.content_hash}\0".encode())
    variables: list[Variable] = []
    for use in uses:
        variables.extend(use.play_variables)
    task_names: list[str] = []
    descriptions: list[str] = []
    problems = [f"{site.path}: {site.error}"] if site.error else []
    for name in names:
        role = found[name]
        digest.update(f"{name}={role.content_hash if role else '-'}\0".encode())
        if role is None:
            descriptions.append(f"role {name} (not in roles/)")
            continue
        if role.description:
            descriptions.append(role.description)
        variables.extend(
            Variable(v.name, v.default, f"{role.path}/{v.source}") for v in role.variables
        )
        task_names.extend(role.task_names)
        if not role.valid:
            problems.append(f"role {role.name}: {role.error}")
    shown = ", ".join(names)
    summary = "; ".join(descriptions) or f"Applies role{'s' if len(names) > 1 else ''} {shown}"
    first = found[names[0]]
    return Entry(
        id=None,
        kind=EntryKind.TAG,
        name=tag,
        path=site.path,
        role=first.name if first else names[0],
        description=clean_text(f"{summary} ({site.path} --tags {tag})"),
        service=None,
        tags=(tag,),
        variables=unique_variables(variables),
        hosts=clean_text(",".join(unique([u.hosts for u in uses if u.hosts])), 1024) or None,
        task_names=tuple(task_names),
        header={},
        content_hash=digest.hexdigest(),
        valid=site.valid and not problems,
        error=clean_text("; ".join(problems)) if problems else None,
        become=any(u.become for u in uses) or any(r.become for r in found.values() if r),
    )
