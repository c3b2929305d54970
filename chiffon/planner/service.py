"""Planner: a request in plain words -> a plan made of the catalog's entries.

This increment is the deterministic planner only (no LLM, no embeddings) and plans are not
stored yet: ``plan`` returns a ``Plan`` and writes nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from chiffon.catalog import CatalogService, Entry, Progress
from chiffon.planner._assemble import build_plan
from chiffon.planner._inventory import InventoryFacts, mtimes, read_facts
from chiffon.planner._match import Index, SemanticSearch
from chiffon.planner._plan import Plan

MAX_REQUEST_CHARS = 2_000


class RequestError(ValueError):
    """The request cannot be planned as given (empty, too long); the message says why."""


@dataclass(frozen=True)
class _Ready:
    key: str
    index: Index
    facts: InventoryFacts


def check_request(text: str) -> str:
    """The request stripped; raise ``RequestError`` when empty or over 2,000 characters."""
    cleaned = text.strip()
    if not cleaned:
        raise RequestError("the request is empty: say what you want done, e.g. 'deploy grafana'")
    if len(cleaned) > MAX_REQUEST_CHARS:
        raise RequestError(
            f"the request is {len(cleaned)} characters long; the most is {MAX_REQUEST_CHARS}"
        )
    return cleaned


class Planner:
    """Plans requests against the catalog. The match index is rebuilt only when an entry's
    content hash (or the inventory's group_vars) changed since the last plan."""

    def __init__(self, catalog: CatalogService) -> None:
        self._catalog = catalog
        self._ready: _Ready | None = None
        self._lock = asyncio.Lock()

    @property
    def playbooks_dir(self) -> Path:
        return self._catalog.playbooks_dir

    async def plan(self, text: str) -> Plan:
        """The plan for ``text``. Raises ``RequestError`` for an empty or huge request."""
        request = check_request(text)
        ready = await self.prepare()
        return await asyncio.to_thread(build_plan, request, ready.index, ready.facts)

    async def prepare(self, progress: Progress | None = None) -> _Ready:
        """The index for the catalog as stored now, built (off the loop) only when changed:
        the key is the catalog's fingerprint (content hashes) and the inventory files' times.
        The catalog's embedding index is brought up to date with it (new and changed entries
        embedded; ``progress`` hears how far that got)."""
        root = self.playbooks_dir
        stamps = await asyncio.to_thread(mtimes, root)
        key = f"{await self._catalog.fingerprint()} {stamps!r}"
        async with self._lock:
            if self._ready is None or self._ready.key != key:
                entries = await self._catalog.list_entries()
                semantic = await self._semantic(entries, progress)
                index, facts = await asyncio.to_thread(_build, entries, root, semantic)
                self._ready = _Ready(key, index, facts)
            return self._ready

    async def _semantic(
        self, entries: list[Entry], progress: Progress | None
    ) -> SemanticSearch | None:
        embeddings = self._catalog.embeddings
        if embeddings is None:
            return None
        update = await embeddings.refresh(entries, progress)
        return embeddings.search if update.off is None else None


def _build(
    entries: list[Entry], root: Path, semantic: SemanticSearch | None
) -> tuple[Index, InventoryFacts]:
    return Index(entries, semantic), read_facts(root)
