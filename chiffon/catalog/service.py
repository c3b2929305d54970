"""CatalogService: the playbook repo's entries, kept in the database and fresh by content hash."""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import os
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from chiffon.catalog._discover import (
    KIND_ORDER,
    SETTLE_S,
    KnownHashes,
    check_repo,
    find_sources,
    rebuild,
)
from chiffon.catalog._entry import (
    CatalogError,
    Entry,
    EntryKind,
    EntryNotFound,
    Inventory,
    PathOutsideRepo,
    Saved,
    ScanResult,
    Variable,
)
from chiffon.catalog._files import inventories
from chiffon.catalog.index import EmbeddingIndex
from chiffon.catalog.models import CatalogEntry
from chiffon.db import SessionFactory, utcnow

# When a bare name matches several entries, the one a person most likely means.
_NAME_PREFERENCE = {EntryKind.PLAYBOOK: 0, EntryKind.TAG: 1, EntryKind.ROLE: 2}
_KEY = tuple[str, str, str]
_CHUNK = 500  # ids per IN (...) list: far below every database's limit on parameters
# (repo root, {relative path: bytes}, message, author) -> commit sha, or None outside git.
CommitPaths = Callable[[Path, dict[str, bytes], str, str], str | None]


class CatalogService:
    """Discovers the playbook repo at ``playbooks_dir`` and answers questions about it.

    ``embeddings`` is the entries' embedding index, or None when semantic matching is turned
    off; it is brought up to date by whoever needs it (the planner, ``chiffon catalog scan``),
    not by ``scan``, so that start-up never waits for a model."""

    def __init__(
        self,
        session_factory: SessionFactory,
        playbooks_dir: Path,
        commit_paths: CommitPaths | None = None,
        embeddings: EmbeddingIndex | None = None,
        settle_s: float = SETTLE_S,
    ) -> None:
        self._sessions = session_factory
        self._settle_s = settle_s
        self._commit_paths = commit_paths
        self.playbooks_dir = Path(playbooks_dir).expanduser().resolve()
        self.embeddings = embeddings
        self._scan_lock = asyncio.Lock()
        self._not_playbooks: dict[str, str] = {}
        # What the last scan saw, so that an unchanged repo costs stats, not reads and parses:
        # the files' hashes by stat, and the stored entries by id (an entry is a function of
        # its content hash, so a row whose hash is unchanged need not be decoded again).
        self._known_hashes: KnownHashes = {}
        self._rows: dict[int, Entry] = {}

    async def scan(self) -> ScanResult:
        """Discover the repo and store it: new and changed entries written, unchanged ones
        reused by content hash, vanished ones removed, all in one transaction. Files whose
        stat is unchanged since the last scan are not read again, and stored entries whose
        id, key and hash are unchanged are not read back from the database.

        Raises ``CatalogError`` when the playbook repo is missing or not a directory.
        """
        async with self._scan_lock:
            started = time.perf_counter()
            root = self.playbooks_dir
            sources = await asyncio.to_thread(
                find_sources, root, self._known_hashes, self._settle_s
            )
            self._known_hashes = sources.known
            for attempt in (1, 2):
                stored = await self._stored()
                discovery = await asyncio.to_thread(
                    rebuild, root, sources, stored.values(), self._not_playbooks
                )
                try:
                    parsed, reused, removed = await self._write(stored, discovery.entries)
                    break
                except IntegrityError:
                    # Another process scanned the same repo at the same moment.
                    if attempt == 2:
                        raise CatalogError(
                            "another scan changed the catalog at the same time; run "
                            "`chiffon catalog scan` again"
                        ) from None
            self._not_playbooks = discovery.not_playbooks
            if parsed or removed or any(e.id is None for e in discovery.entries):
                entries = _sorted((await self._stored()).values())
            else:  # nothing written: the entries are the stored ones, ids and all
                entries = list(discovery.entries)
            return ScanResult(
                entries=entries,
                inventories=discovery.inventories,
                parsed=parsed,
                reused=reused,
                removed=removed,
                seconds=round(time.perf_counter() - started, 4),
                files_read=sources.files_read,
            )

    async def _stored(self) -> dict[_KEY, Entry]:
        """The stored entries: ids and hashes read, and whole rows only for those that are
        not in ``_rows`` with the same hash (all of them the first time)."""
        # SQLite may give a deleted row's id to a new one (a renamed file, the same bytes):
        # an entry is kept only when its id, key and hash are all unchanged.
        light = select(
            CatalogEntry.id,
            CatalogEntry.kind,
            CatalogEntry.path,
            CatalogEntry.name,
            CatalogEntry.content_hash,
        )
        async with self._sessions() as session:
            now = {
                i: ((kind, path, name), h)
                for i, kind, path, name, h in await session.execute(light)
            }
            kept = {
                i: entry
                for i, entry in self._rows.items()
                if now.get(i) == (_key(entry), entry.content_hash)
            }
            missing = [entry_id for entry_id in now if entry_id not in kept]
            for start in range(0, len(missing), _CHUNK):
                chunk = missing[start : start + _CHUNK]
                rows = await session.scalars(select(CatalogEntry).where(CatalogEntry.id.in_(chunk)))
                kept.update((row.id, _from_row(row)) for row in rows)
        self._rows = kept
        return {_key(entry): entry for entry in kept.values()}

    async def _write(
        self, stored: dict[_KEY, Entry], entries: Sequence[Entry]
    ) -> tuple[int, int, int]:
        fresh = {_key(entry): entry for entry in entries}
        gone = [entry.id for key, entry in stored.items() if key not in fresh]
        changed = [
            (stored[key].id, entry)
            for key, entry in fresh.items()
            if key in stored and stored[key].content_hash != entry.content_hash
        ]
        added = [entry for key, entry in fresh.items() if key not in stored]
        if gone or changed or added:
            # Writes only, by the ids read above: on SQLite the transaction starts as a writer,
            # so it waits on busy_timeout instead of failing to upgrade a read snapshot.
            async with self._sessions() as session, session.begin():
                if gone:
                    await session.execute(delete(CatalogEntry).where(CatalogEntry.id.in_(gone)))
                for entry_id, entry in changed:
                    await session.execute(
                        update(CatalogEntry)
                        .where(CatalogEntry.id == entry_id)
                        .values(**_row_values(entry))
                    )
                if added:
                    await session.execute(
                        insert(CatalogEntry), [_row_values(entry) for entry in added]
                    )
        return len(changed) + len(added), len(fresh) - len(changed) - len(added), len(gone)

    async def list_entries(self, query: str = "", kind: EntryKind | None = None) -> list[Entry]:
        """Entries (playbooks, then roles, then tags, by path) whose name, description, tags or
        service contain every word of ``query``, case-insensitively; all when it is empty."""
        statement = select(CatalogEntry)
        if kind is not None:
            statement = statement.where(CatalogEntry.kind == str(kind))
        async with self._sessions() as session:
            entries = [_from_row(row) for row in await session.scalars(statement)]
        words = query.lower().split()
        if words:
            entries = [e for e in entries if all(word in _haystack(e) for word in words)]
        return _sorted(entries)

    async def fingerprint(self) -> str:
        """A digest of every stored entry's kind, path, name and content hash: it changes
        exactly when a scan changed the catalog, and costs far less than ``list_entries``."""
        statement = select(
            CatalogEntry.kind, CatalogEntry.path, CatalogEntry.name, CatalogEntry.content_hash
        ).order_by(CatalogEntry.kind, CatalogEntry.path, CatalogEntry.name)
        digest = hashlib.sha256()
        async with self._sessions() as session:
            for kind, path, name, content_hash in await session.execute(statement):
                digest.update(f"{kind}\0{path}\0{name}\0{content_hash}\n".encode())
        return digest.hexdigest()

    async def get_entry(self, entry_id: int) -> Entry | None:
        """The entry with this id, or None."""
        async with self._sessions() as session:
            row = await session.get(CatalogEntry, entry_id)
            return _from_row(row) if row is not None else None

    async def resolve(self, ref: str) -> Entry:
        """Return the entry ``ref`` names, looked up in this order:

        1. a path relative to the repo (``hello.yml``, ``playbooks/x.yml``, ``roles/web``);
        2. ``kind:name`` (``playbook:hello``, ``role:web``, ``tag:web``);
        3. a bare name; when several entries have it, a playbook wins over a tag, and a tag
           over a role (then the shortest path).

        An invalid entry is returned too (``valid`` is False; the executor refuses it).
        Raises ``PathOutsideRepo`` for an absolute path or one that leaves the repo (``..``,
        a symlink pointing out), and ``EntryNotFound`` naming close matches otherwise.
        """
        ref = ref.strip()
        if not ref:
            raise EntryNotFound("no entry given: name a playbook, role or tag, or a path")
        wanted = await asyncio.to_thread(self._paths_meant, ref)
        return _resolve_in(await self.list_entries(), ref, wanted)

    async def resolve_each(self, refs: Collection[str]) -> dict[str, Entry | None]:
        """Each of ``refs`` resolved as ``resolve`` does (None where it raises
        ``CatalogError``), reading the catalog once for all of them: a plan page resolves
        every step's entry."""
        wanted = await asyncio.to_thread(self._paths_each, {ref.strip() for ref in refs})
        entries = await self.list_entries() if wanted else []
        resolved: dict[str, Entry | None] = {}
        for ref in refs:
            paths = wanted.get(ref.strip())
            try:
                resolved[ref] = None if paths is None else _resolve_in(entries, ref.strip(), paths)
            except CatalogError:
                resolved[ref] = None
        return resolved

    async def inventories(self) -> list[Inventory]:
        """Inventory sources in the repo, the one ansible.cfg names first.

        Raises ``CatalogError`` when the playbook repo is missing."""
        await asyncio.to_thread(check_repo, self.playbooks_dir)
        return await asyncio.to_thread(inventories, self.playbooks_dir)

    async def default_inventory(self) -> Inventory | None:
        """The inventory a run uses when none is given: ansible.cfg's, else the first found."""
        found = await self.inventories()
        return found[0] if found else None

    def _paths_each(self, refs: set[str]) -> dict[str, set[str]]:
        # Refs that name no entry at all (empty, outside the repo) are left out.
        found: dict[str, set[str]] = {}
        for ref in refs:
            try:
                found[ref] = self._paths_meant(ref) if ref else set()
            except CatalogError:
                continue
        return found

    def _paths_meant(self, ref: str) -> set[str]:
        # The path as written (normalised) and, for a symlink inside the repo, its target.
        resolved = self.safe_path(ref)
        wanted = {PurePosixPath(os.path.normpath(ref)).as_posix()}
        if resolved.exists():
            wanted.add(resolved.resolve().relative_to(self.playbooks_dir).as_posix())
        return wanted

    async def write_files(self, files: dict[str, str], message: str, author: str) -> Saved:
        """Write ``files`` (repo-relative path -> text) into the playbook repo, commit them when
        it is a git repository, and rescan. Raises ``PathOutsideRepo`` for a path outside it
        (nothing is written then)."""
        for relative in files:
            self.safe_path(relative)
        encoded = {relative: text.encode("utf-8") for relative, text in files.items()}
        root = self.playbooks_dir
        if self._commit_paths is None:
            raise CatalogError("this catalog was built without a git adapter; use bootstrap()")
        sha = await asyncio.to_thread(self._commit_paths, root, encoded, message, author)
        await self.scan()
        return Saved(paths=sorted(files), commit=sha)

    def safe_path(self, relative: str) -> Path:
        """Return ``playbooks_dir / relative`` (normalised); raise ``PathOutsideRepo`` when it
        is absolute or, after following symlinks, lies outside the playbook repo."""
        root = self.playbooks_dir
        if "\x00" in relative:
            raise PathOutsideRepo(f"{relative!r} is not a valid path")
        if relative.startswith("~") or os.path.isabs(relative):
            raise _outside(relative, root)
        candidate = Path(os.path.normpath(root / relative))
        try:
            inside = candidate.is_relative_to(root) and candidate.resolve().is_relative_to(root)
        except (OSError, RuntimeError):  # a symlink loop
            inside = False
        if not inside:
            raise _outside(relative, root)
        return candidate


def _resolve_in(entries: Sequence[Entry], ref: str, wanted: set[str]) -> Entry:
    """``resolve``'s choice among ``entries`` of the one ``ref`` names (``wanted``: the repo
    paths it may mean); raises ``EntryNotFound``."""
    if not ref:
        raise EntryNotFound("no entry given: name a playbook, role or tag, or a path")
    by_path = [e for e in entries if e.path in wanted and e.kind is not EntryKind.TAG]
    if by_path:
        return min(by_path, key=lambda e: KIND_ORDER[e.kind])
    kind_name, _, name = ref.partition(":")
    if name and kind_name in set(EntryKind):
        candidates = [e for e in entries if e.kind == kind_name and e.name == name]
        pool = [e.name for e in entries if e.kind == kind_name]
    else:
        candidates = [e for e in entries if e.name == ref]
        looks_like_path = "/" in ref or ref.endswith((".yml", ".yaml"))
        pool = [e.path if looks_like_path else e.name for e in entries]
        name = ref
    if candidates:
        return min(candidates, key=lambda e: (_NAME_PREFERENCE[e.kind], len(e.path), e.path))
    raise EntryNotFound(_not_found_message(ref, name, pool))


def _outside(relative: str, root: Path) -> PathOutsideRepo:
    return PathOutsideRepo(
        f"{relative!r} is outside the playbook repo: paths must be inside "
        f"CHIFFON_PLAYBOOKS_DIR ({root}) and relative to it, e.g. hello.yml or roles/web"
    )


def _not_found_message(ref: str, name: str, pool: list[str]) -> str:
    close = difflib.get_close_matches(name, sorted(set(pool)), n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return (
        f"no catalog entry matches {ref!r}.{hint} If the playbook repo changed, run "
        "`chiffon catalog scan`."
    )


def _sorted(entries: Iterable[Entry]) -> list[Entry]:
    return sorted(entries, key=lambda e: (KIND_ORDER[e.kind], e.path, e.name))


def _haystack(entry: Entry) -> str:
    parts = [entry.name, entry.description, *entry.tags, entry.service or ""]
    return "\n".join(parts).lower()


def _key(entry: Entry) -> _KEY:
    return (str(entry.kind), entry.path, entry.name)


def _row_values(entry: Entry) -> dict[str, Any]:
    return {
        "kind": str(entry.kind),
        "name": entry.name,
        "path": entry.path,
        "role": entry.role,
        "description": entry.description,
        "service": entry.service,
        "tags": list(entry.tags),
        "variables": [variable.to_json() for variable in entry.variables],
        "hosts": entry.hosts,
        "task_names": list(entry.task_names),
        "header": entry.header,
        "content_hash": entry.content_hash,
        "valid": entry.valid,
        "error": entry.error,
        "become": entry.become,
        "scanned_at": utcnow(),
    }


def _from_row(row: CatalogEntry) -> Entry:
    return Entry(
        id=row.id,
        kind=EntryKind(row.kind),
        name=row.name,
        path=row.path,
        role=row.role,
        description=row.description,
        service=row.service,
        tags=tuple(row.tags),
        variables=tuple(
            Variable(item["name"], item.get("default"), item["source"]) for item in row.variables
        ),
        hosts=row.hosts,
        task_names=tuple(row.task_names),
        header=dict(row.header),
        content_hash=row.content_hash,
        valid=row.valid,
        error=row.error,
        become=row.become,
    )
