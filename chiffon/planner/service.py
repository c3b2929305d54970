"""Planner: a request in plain words -> a plan made of the catalog's entries.

The deterministic planner always runs; when LLM providers are configured they may then choose
among its candidates (``LlmPlanner``), and any failure of theirs leaves the deterministic plan.
Steps nothing fits get a generated draft playbook; steps whose entries need resources get a
placement (``StepPlacer``) when a router is given. ``plan`` returns a ``Plan`` and stores
nothing but LLM usage rows (the CLI's dry answer); ``submit`` plans a person's request and
stores it, awaiting approval.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

from chiffon.bus import EventBus
from chiffon.catalog import CatalogService, Entry, Progress, Saved
from chiffon.db import SessionFactory
from chiffon.lib.ids import new_correlation_id
from chiffon.planner._assemble import build_plan
from chiffon.planner._drafts import draft_for
from chiffon.planner._inventory import InventoryFacts, mtimes, read_facts
from chiffon.planner._match import Index, SemanticSearch
from chiffon.planner._placement import PlacementGate, StepPlacer
from chiffon.planner._plan import Draft, Plan, StepStatus
from chiffon.planner._providers import LlmPlanner
from chiffon.planner._records import PlanRecord, SavedDraft
from chiffon.planner._saved_drafts import SavedDrafts
from chiffon.planner._store import PlanStore
from chiffon.planner.events import PlanProposed

log = logging.getLogger("chiffon.planner")

MAX_REQUEST_CHARS = 2_000
# (kind, path, name) -> the entry's typical run time in seconds, None without history.
TypicalDuration = Callable[[str, str, str], Awaitable[float | None]]


class RequestError(ValueError):
    """The request cannot be planned as given (empty, too long); the message says why."""


class DraftError(ValueError):
    """A draft cannot be saved as given (a file is already there, it was saved already, a
    name the catalog would not read); the message says why."""


class DraftNameError(DraftError):
    """The name asked for is not one the catalog would read as a playbook."""


class DraftNotFound(LookupError):
    """No such plan or step, or the step matched an entry and so has no draft."""


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

    def __init__(
        self,
        catalog: CatalogService,
        llm: LlmPlanner | None = None,
        sessions: SessionFactory | None = None,
        bus: EventBus | None = None,
        typical_duration: TypicalDuration | None = None,
        router: PlacementGate | None = None,
    ) -> None:
        self._catalog = catalog
        self._llm = llm
        self._ready: _Ready | None = None
        self._lock = asyncio.Lock()
        self._bus = bus or EventBus()
        self._typical_duration = typical_duration
        self.plans = PlanStore(sessions) if sessions is not None else None
        # Steps whose entries need resources are placed on a host (the router's pick).
        self.placer = StepPlacer(router, catalog.playbooks_dir) if router is not None else None
        self._saved = SavedDrafts(sessions) if sessions is not None else None

    async def submit(self, text: str, requester: str) -> PlanRecord:
        """Plan ``text`` for ``requester``, store the plan awaiting approval, publish
        ``PlanProposed``. Raises ``RequestError`` for an empty or huge request."""
        if self.plans is None:
            raise RuntimeError("this planner was built without a database; use bootstrap()")
        plan = await self.plan(text)
        estimates: list[float | None] = []
        for step in plan.steps:
            known = None
            if step.entry is not None and self._typical_duration is not None:
                entry = step.entry
                known = await self._typical_duration(str(entry.kind), entry.path, entry.name)
            estimates.append(known)
        correlation_id = plan.correlation_id or new_correlation_id()
        record = await self.plans.add(plan, requester, correlation_id, estimates)
        await self._bus.publish(PlanProposed(record.id, record.correlation_id))
        return record

    async def close(self) -> None:
        """Close the LLM providers' connections (nothing to do without providers)."""
        if self._llm is not None:
            await self._llm.close()

    @property
    def playbooks_dir(self) -> Path:
        return self._catalog.playbooks_dir

    async def plan(self, text: str, correlation_id: str | None = None) -> Plan:
        """The plan for ``text`` (``correlation_id`` is new when not given). Raises
        ``RequestError`` for an empty or huge request, and nothing for an LLM's failure."""
        request = check_request(text)
        correlation_id = correlation_id or new_correlation_id()
        ready = await self.prepare()
        plan = await asyncio.to_thread(build_plan, request, ready.index, ready.facts)
        plan = replace(plan, correlation_id=correlation_id)
        if self._llm is not None:
            try:
                plan = await self._llm.refine(plan, correlation_id)
            except Exception:  # the person gets the deterministic plan, never an LLM's error
                log.exception(
                    "LLM planning failed; the deterministic plan stands [%s]", correlation_id
                )
        plan = await asyncio.to_thread(self._with_drafts, plan)
        return await self._with_placements(plan)

    def _with_drafts(self, plan: Plan) -> Plan:
        steps = tuple(
            replace(step, draft=draft_for(step, self.playbooks_dir))
            if step.status is StepStatus.NO_MATCH
            else step
            for step in plan.steps
        )
        return replace(plan, steps=steps)

    async def _with_placements(self, plan: Plan) -> Plan:
        if self.placer is None:
            return plan
        steps = []
        for step in plan.steps:
            if step.entry is not None:
                step = replace(step, placement=await self.placer.place(step.entry, step.target))
            steps.append(step)
        return replace(plan, steps=tuple(steps))

    async def save_draft(self, draft: Draft, author: str, message: str | None = None) -> Saved:
        """Write ``draft`` into the playbook repo (a git commit when it is one) and rescan.
        The saved playbook still says ``generated: true``: it cannot run until reviewed.
        Raises ``DraftError`` when a file is already at its path, and the catalog's
        ``PathOutsideRepo`` for a path outside the repo."""
        target = self._catalog.safe_path(draft.path)
        if await asyncio.to_thread(target.exists):
            raise DraftError(f"{draft.path} already exists in the playbook repo; not overwritten")
        message = message or f"Add generated draft {draft.path} for {draft.service} (not reviewed)"
        return await self._catalog.write_files({draft.path: draft.text}, message, author)

    async def save_step_draft(
        self, plan_id: int, position: int, by: str, path: str = ""
    ) -> SavedDraft:
        """Save the draft proposed for the plan's step at ``position`` into the playbook repo
        (as ``path`` when given, else where it was proposed), like ``save_draft``, and
        remember it so that the same draft is never saved twice. The catalog is rescanned: the
        new entry is there at once, and still refused by the executor until reviewed.

        Raises ``DraftNotFound`` (no such plan or step, or the step has an entry),
        ``DraftError`` (saved already, a file at the path, a name the catalog would not read)
        and the catalog's ``PathOutsideRepo``."""
        if self.plans is None or self._saved is None:
            raise RuntimeError("this planner was built without a database; use bootstrap()")
        plan = await self.plans.get(plan_id)
        if plan is None:
            raise DraftNotFound(f"there is no plan #{plan_id}")
        step = next((s for s in plan.steps if s.position == position), None)
        if step is None:
            raise DraftNotFound(f"plan #{plan_id} has no step {position + 1}")
        done = plan.saved_draft_of(position)
        if done is not None:
            raise DraftError(_saved_already(done))
        draft = plan.draft_of(position)
        if draft is None:
            raise DraftNotFound(
                f"step {position + 1} of plan #{plan_id} has a playbook: there is no draft"
            )
        if path.strip():
            draft = replace(draft, path=self._draft_path(path))
        author = by if "<" in by else f"{by} <>"
        claim = await self._saved.claim(plan_id, step.clause, draft.path, by)
        if claim is None:
            found = await self._saved.get(plan_id, step.clause)
            raise DraftError(_saved_already(found) if found else "this draft is being saved")
        try:
            saved = await self.save_draft(
                draft,
                author,
                f"Add generated draft {draft.path} for {draft.service} (not reviewed)\n\n"
                f"Generated by Chiffon for plan #{plan_id}, step {position + 1}: "
                f"{step.clause}\nSaved by {by}.\n",
            )
        except BaseException:
            await self._saved.release(claim)
            raise
        await self._saved.finish(claim, saved.commit)
        found = await self._saved.get(plan_id, step.clause)
        assert found is not None
        return found

    def _draft_path(self, wanted: str) -> str:
        """``wanted`` as a repo-relative path where the catalog reads playbooks (the top of the
        repo or playbooks/). Raises ``PathOutsideRepo`` and ``DraftError``."""
        relative = wanted.strip().replace("\\", "/")
        inside = self._catalog.safe_path(relative).relative_to(self.playbooks_dir)
        name = inside.name
        folder = inside.parent.as_posix()
        if not name.endswith((".yml", ".yaml")) or name.startswith("."):
            raise DraftNameError(f"{relative!r}: a playbook's name ends with .yml, e.g. htop.yml")
        if folder not in (".", "playbooks"):
            raise DraftNameError(
                f"{relative!r}: the catalog reads playbooks at the top of the repo or in "
                "playbooks/; save it as e.g. htop.yml or playbooks/htop.yml"
            )
        return inside.as_posix()

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


def _saved_already(saved: SavedDraft) -> str:
    where = f"commit {saved.commit[:12]}" if saved.commit else "not a git repo: no commit"
    return f"this draft was saved already, as {saved.path} ({where}) by {saved.saved_by}"


def _build(
    entries: list[Entry], root: Path, semantic: SemanticSearch | None
) -> tuple[Index, InventoryFacts]:
    return Index(entries, semantic), read_facts(root)
