"""From request text to a plan, on a ready index: decompose, match, extract values, order."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from chiffon.catalog import Entry
from chiffon.planner._decompose import order_steps, split_clauses
from chiffon.planner._inventory import InventoryFacts
from chiffon.planner._match import THRESHOLD, Hit, Index
from chiffon.planner._plan import (
    Candidate,
    Plan,
    PlanStatus,
    PlanStep,
    StepStatus,
    assess_risk,
)
from chiffon.planner._text import Action, content_words, tokens
from chiffon.planner._vars import Hints, assign, find_hints

PLANNER = "deterministic"
_TOP = 3
# Words that point back at the thing named before: "add the portals to its config".
_ANAPHORS = frozenset(
    {"it", "its", "them", "their", "there", "config", "configuration", "settings"}
)


@dataclass
class _Draft:
    clause: str
    query: str
    action: Action | None
    after_previous: bool
    hints: Hints
    target: str | None
    hits: list[Hit] = field(default_factory=list)

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits and self.hits[0].score >= THRESHOLD else None


@functools.lru_cache(maxsize=16)
def _target_pattern(names: frozenset[str]) -> re.Pattern[str] | None:
    """ "on the docker hosts", "to the nas": a phrase naming an inventory group or host."""
    spelled = sorted(
        (r"[\s_-]+".join(map(re.escape, tokens(n))) for n in names if tokens(n)), key=len
    )
    if not spelled:
        return None
    alternatives = "|".join(reversed(spelled))
    return re.compile(
        rf"\b(?:on|to|onto|across|in|for)\s+(?:the\s+|my\s+|our\s+|all\s+)*"
        rf"(?P<name>{alternatives})(?:\s+(?:hosts?|servers?|machines?|box(?:es)?|group))?\b",
        re.IGNORECASE,
    )


_EVERY_HOST = re.compile(
    r"\b(?:on|to|across)\s+(?:all|every|each)(?:\s+(?:of\s+)?(?:my|our|the))?\s+"
    r"(?:hosts?|servers?|machines?|nodes?|boxes)\b",
    re.IGNORECASE,
)


def _strip_target(text: str, facts: InventoryFacts) -> tuple[str, str | None]:
    """The text without the phrase that names where to run, and that target: an inventory
    group or host, or ``all`` for "on all hosts"."""
    every = _EVERY_HOST.search(text)
    if every is not None:
        return (text[: every.start()] + " " + text[every.end() :]).strip(), "all"
    pattern = _target_pattern(facts.names)
    found = pattern.search(text) if pattern else None
    if found is None:
        return text, None
    said = tokens(found.group("name"))
    target = next((n for n in sorted(facts.names) if tokens(n) == said), None)
    return (text[: found.start()] + " " + text[found.end() :]).strip(), target


def _service(entry: Entry) -> str:
    return entry.service or entry.role or entry.name


def _drafts(request: str, index: Index, facts: InventoryFacts) -> list[_Draft]:
    drafts: list[_Draft] = []
    for clause in split_clauses(request):
        hints, rest = find_hints(clause.text)
        rest, target = _strip_target(rest, facts)
        words = content_words(rest)
        if not words and drafts:
            drafts[-1].clause = f"{drafts[-1].clause} and {clause.text}"
            drafts[-1].hints.merge(hints)  # "… and make it available externally"
            drafts[-1].target = drafts[-1].target or target
            continue
        draft = _Draft(clause.text, rest, clause.action, clause.after_previous, hints, target)
        draft.hits = index.search(rest, clause.action)
        _use_context(draft, drafts, index, words)
        if not _merged(draft, drafts, index, words):
            drafts.append(draft)
    return drafts


def _use_context(draft: _Draft, drafts: list[_Draft], index: Index, words: list[str]) -> None:
    """A clause that names nothing itself but points back ("add our portals to the config")
    is read with the service of the step before it."""
    before = drafts[-1].best if drafts else None
    if before is None or (draft.hits and draft.hits[0].named):
        return
    pointing = bool(set(tokens(draft.query)) & _ANAPHORS)
    if not pointing and not all(index.knows(w) for w in words):
        return
    hits = index.search(draft.query, draft.action, context=_service(before.entry))
    if hits and (not draft.hits or hits[0].score > draft.hits[0].score):
        draft.hits = hits


def _merged(draft: _Draft, drafts: list[_Draft], index: Index, words: list[str]) -> bool:
    """Fold a clause into the one before when both mean the same entry ("merge and split
    PDFs"), or when it matches nothing but only uses words the catalog knows."""
    if not drafts:
        return False
    previous = drafts[-1]
    mine, theirs = draft.best, previous.best
    same = mine is not None and theirs is not None and mine.entry == theirs.entry
    if not same and mine is None and theirs is not None:
        # Below the threshold on its own, but its best guess is the step before's entry. A
        # guess by meaning alone does not count: every clause is nearest to something.
        same = bool(draft.hits) and draft.hits[0].worded and draft.hits[0].entry == theirs.entry
        if not same and all(index.knows(w) for w in words):
            combined = index.search(f"{previous.query} {draft.query}", previous.action)
            same = bool(combined) and combined[0].entry == theirs.entry
    if (
        not same
        and theirs is None
        and mine is not None
        and all(index.knows(w) for w in content_words(previous.query))
    ):
        draft.clause = f"{previous.clause} and {draft.clause}"
        draft.query = f"{previous.query} {draft.query}"
        draft.hits = index.search(draft.query, draft.action or previous.action)
        draft.hints.merge(previous.hints)
        drafts[-1] = draft
        return True
    if same:
        previous.clause = f"{previous.clause} and {draft.clause}"
        previous.hints.merge(draft.hints)
        previous.target = previous.target or draft.target
    return same


def _requires(entry: Entry) -> set[str]:
    wanted = entry.header.get("requires") if isinstance(entry.header, dict) else None
    if isinstance(wanted, str):
        wanted = [wanted]
    return {str(w).lower() for w in wanted} if isinstance(wanted, list) else set()


def _names_of(entry: Entry) -> set[str]:
    stem = entry.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return {n.lower() for n in (entry.name, stem, entry.service, entry.role) if n}


def _constraints(drafts: list[_Draft]) -> tuple[list[tuple[int, int]], dict[int, set[int]]]:
    before: list[tuple[int, int]] = []
    depends: dict[int, set[int]] = {i: set() for i in range(len(drafts))}
    for i, draft in enumerate(drafts):
        if draft.after_previous and i > 0:
            depends[i].add(i - 1)
        mine = draft.best
        if mine is None:
            continue
        for j, other in enumerate(drafts):
            theirs = other.best
            if j == i or theirs is None:
                continue
            needs = bool(_requires(mine.entry) & _names_of(theirs.entry))
            installs_first = (
                _service(mine.entry) == _service(theirs.entry)
                and draft.action is Action.CONFIGURE
                and other.action is Action.INSTALL
            )
            if needs or installs_first:
                before.append((j, i))
                depends[i].add(j)
    return before, depends


def build_plan(request: str, index: Index, facts: InventoryFacts) -> Plan:
    """The plan for ``request``; a request that names nothing the repo has gets no_match
    steps (one for the whole request when it has no words at all)."""
    drafts = _drafts(request, index, facts)
    if not drafts:
        drafts = [_Draft(request.strip(), "", None, False, Hints(), None)]
    before, depends = _constraints(drafts)
    order = order_steps(len(drafts), before)
    position = {old: new for new, old in enumerate(order)}
    steps: list[PlanStep] = []
    for old in order:
        draft = drafts[old]
        best = draft.best
        variables: dict[str, Any] = {}
        if best is not None:
            variables = assign(
                best.entry, draft.hints, draft.action, draft.clause, facts.group_vars
            )
        steps.append(
            PlanStep(
                clause=draft.clause,
                status=StepStatus.MATCHED if best else StepStatus.NO_MATCH,
                entry=best.entry if best else None,
                confidence=draft.hits[0].score if draft.hits else 0.0,
                candidates=tuple(Candidate(h.entry, h.score, h.reason) for h in draft.hits[:_TOP]),
                vars=variables,
                depends_on=tuple(
                    sorted(position[d] for d in depends[old] if position[d] < len(steps))
                ),
                target=draft.target,
            )
        )
    ordered = tuple(steps)
    return Plan(
        request, PlanStatus.PENDING_APPROVAL, PLANNER, assess_risk(request, ordered, facts), ordered
    )
