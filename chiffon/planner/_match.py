"""Matching a clause to catalog entries: names first, then BM25 over what entries say, then
what they mean.

The name matcher compares the clause's word n-grams with every entry's name, service and role,
ignoring case, punctuation, hyphens vs underscores vs spaces, word order, domain suffixes and
the action words a playbook's file name carries (``kuma-deploy`` is "kuma" + deploy). The
lexical matcher is BM25 over name, description, tags, task names and variable names. The
semantic matcher (when the catalog has an embedding index) is the cosine similarity of the
clause and the entry's text, mapped to [0, 1]. Each gives a score in [0, 1]; the fused score is
the largest plus a little of the next, and the action (install / configure / remove) the clause
asks for nudges entries whose names say otherwise.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from chiffon.catalog import Entry, EntryKind, Similar, entry_key
from chiffon.planner._bm25 import BM25
from chiffon.planner._text import ACTION_WORDS, STOP_WORDS, Action, content_words, stem, tokens

# Below this fused score a clause gets no entry (calibrated on the development set).
THRESHOLD = 0.5
_PREFERENCE = {EntryKind.PLAYBOOK: 0, EntryKind.TAG: 1, EntryKind.ROLE: 2}
_MAX_GRAM = 4
_NEAR_WORDS = 12
_Keep = Callable[[int, float, str], None]
SemanticSearch = Callable[[str, int], list[Similar]]
# all-MiniLM-L6-v2 (int8) puts a described need and the entry that serves it at cosine 0.3-0.9,
# and unrelated pairs mostly below 0.3 but up to 0.5 ("jenkins for CI" ~ redis). So meaning
# alone reaches THRESHOLD only from cosine 0.6 (calibrated on the development set and held-out
# requests on other repos): below that it ranks candidates and backs up the other matchers.
_COSINE_FLOOR = 0.2
_COSINE_AT_THRESHOLD = 0.6
_SEMANTIC_K = 20
_SECOND_WEIGHT = 0.15
_SERVICE_DISCOUNT = 0.02  # a sibling's meaning counts a little less than an entry's own


@dataclass(frozen=True)
class Hit:
    """An entry scored against a clause; ``reason`` says what matched."""

    entry: Entry
    score: float
    reason: str
    named: bool  # the clause says the entry's name (not only words it uses)
    worded: bool = True  # some of the clause's words are the entry's (not only its meaning)


@dataclass(frozen=True)
class _Names:
    compact: frozenset[str]  # "nginxproxymanager"
    bags: frozenset[tuple[str, ...]]  # sorted stems: ("kuma", "uptime")
    words: frozenset[str]  # every stemmed name word, for prefix matches
    action: Action | None


def _name_forms(entry: Entry) -> _Names:
    compact: set[str] = set()
    bags: set[tuple[str, ...]] = set()
    words: set[str] = set()
    action: Action | None = None
    for source in {entry.name, entry.service or "", entry.role or ""}:
        raw = tokens(source)
        action = action or next((ACTION_WORDS[t] for t in raw if t in ACTION_WORDS), None)
        kept = [t for t in raw if t not in ACTION_WORDS] or raw
        if not kept:
            continue
        compact.add("".join(kept))
        bags.add(tuple(sorted(stem(t) for t in kept)))
        words.update(stem(t) for t in kept)
    return _Names(frozenset(compact), frozenset(bags), frozenset(words), action)


def _document(entry: Entry, names: _Names) -> list[str]:
    terms = [*sorted(names.words), *names.compact] * 3
    # A site playbook's tags name the roles it applies; each tag is an entry of its own, so
    # they would only make "deploy grafana" match the whole site.
    if entry.kind is not EntryKind.PLAYBOOK or len(entry.tags) <= 2:
        terms += [stem(t) for tag in entry.tags for t in tokens(tag)] * 2
    terms += content_words(entry.description)
    terms += [w for name in entry.task_names for w in content_words(name)]
    terms += [stem(t) for v in entry.variables for t in tokens(v.name)]
    return terms


def _unique_by_name(entries: Sequence[Entry]) -> list[Entry]:
    """One entry per name: a role and the site-playbook tag that applies it are one thing to
    ask for; the catalog's preference (playbook, then tag, then role) picks which runs it.
    Invalid entries stay: the person still means them, and the plan says they need fixing."""
    best: dict[str, Entry] = {}

    def rank(entry: Entry) -> tuple[bool, int]:
        return (not entry.valid, _PREFERENCE[entry.kind])

    for entry in entries:
        held = best.get(entry.name)
        if held is None or rank(entry) < rank(held):
            best[entry.name] = entry
    return sorted(best.values(), key=lambda e: (e.name, e.path))


class Index:
    """Every valid entry, ready to be matched against clauses."""

    def __init__(self, entries: Sequence[Entry], semantic: SemanticSearch | None = None) -> None:
        self.entries = _unique_by_name(entries)
        number_of_name = {entry.name: number for number, entry in enumerate(self.entries)}
        # Every entry's key leads to the one entry kept under its name.
        self._number_of_key = {entry_key(e): number_of_name[e.name] for e in entries}
        self._semantic = semantic
        # Playbooks that share a service (kuma-deploy, kuma-config-update) are about the same
        # software: what any of them says tells what the service is for.
        self._services: dict[str, list[int]] = {}
        for number, entry in enumerate(self.entries):
            if entry.service:
                self._services.setdefault(entry.service.lower(), []).append(number)
        self._names = [_name_forms(entry) for entry in self.entries]
        self._compact: dict[str, list[int]] = {}
        self._bags: dict[tuple[str, ...], list[int]] = {}
        for number, names in enumerate(self._names):
            for key in names.compact:
                self._compact.setdefault(key, []).append(number)
            for bag in names.bags:
                self._bags.setdefault(bag, []).append(number)
        self._keys = sorted(self._compact)
        self._bm25 = BM25([_document(e, n) for e, n in zip(self.entries, self._names, strict=True)])

    def knows(self, word: str) -> bool:
        """True when some entry mentions this (stemmed) word."""
        return word in self._bm25

    def name_matches(self, text: str) -> dict[int, tuple[float, str]]:
        """Entries whose name the text says, with a score in [0, 1] and the words matched."""
        raw = [t for t in tokens(text) if t not in STOP_WORDS and t not in ACTION_WORDS]
        found: dict[int, tuple[float, str]] = {}

        def keep(number: int, score: float, words: str) -> None:
            if score > found.get(number, (0.0, ""))[0]:
                found[number] = (score, words)

        for size in range(min(_MAX_GRAM, len(raw)), 0, -1):
            for start in range(len(raw) - size + 1):
                gram = raw[start : start + size]
                said = " ".join(gram)
                score = 0.9 + 0.05 * min(size - 1, 2)
                for number in self._compact.get("".join(gram), []):
                    keep(number, score, said)
                for number in self._bags.get(tuple(sorted(stem(t) for t in gram)), []):
                    keep(number, score, said)
        if not found:
            self._near_names(raw, keep)
        return found

    def _near_names(self, raw: list[str], keep: _Keep) -> None:
        # Typos ("valtwarden") and compound names said in part ("change" of changedetection).
        # Only the first words of a long clause: this is the slow part (difflib, every name).
        raw = raw[:_NEAR_WORDS]
        for size in (1, 2):
            for start in range(len(raw) - size + 1):
                said = "".join(raw[start : start + size])
                if len(said) < 5:
                    continue
                for key in difflib.get_close_matches(said, self._keys, n=3, cutoff=0.84):
                    ratio = difflib.SequenceMatcher(None, said, key).ratio()
                    for number in self._compact[key]:
                        keep(number, 0.8 * ratio, said)
        for word in {w for t in raw for w in (t, stem(t)) if len(w) >= 4}:
            for number, names in enumerate(self._names):
                if any(len(n) > len(word) and n.startswith(word) for n in names.compact):
                    keep(number, 0.35, word)

    def search(self, text: str, action: Action | None, context: str = "") -> list[Hit]:
        """Every entry with some evidence, best first; ``context`` (the service of the step
        before) counts as if it were said, for clauses like "add the portals to its config"."""
        names = self.name_matches(f"{context} {text}" if context else text)
        query = self._query(text)
        lexical = self._bm25.relative(query)
        covered = self._bm25.coverage(query)
        meaning = self.meaning(text)
        hits: list[Hit] = []
        for number in names.keys() | lexical.keys() | meaning.keys():
            name_score, said = names.get(number, (0.0, ""))
            share = covered.get(number, 0.0)
            words = 0.5 * lexical.get(number, 0.0) + 0.5 * share
            # A name explains the clause less when the clause is mostly about other things
            # ("backups of my docker volumes" is about backups, not the docker role).
            name_score *= 0.7 + 0.3 * max(share, 0.5)
            cosine = meaning.get(number, 0.0)
            semantic = _semantic_score(cosine)
            first, second, _ = sorted((name_score, words, semantic), reverse=True)
            score = first + _SECOND_WEIGHT * second
            score *= self._action_factor(action, self._names[number].action)
            if semantic > max(name_score, words):
                reason = f"meaning {cosine:.2f}"
            elif said:
                reason = f"name '{said}'"
            else:
                reason = f"words {words:.2f}"
            hits.append(
                Hit(
                    self.entries[number],
                    round(min(score, 1.0), 4),
                    reason,
                    named=name_score >= 0.9,
                    worded=name_score > 0 or words > 0,
                )
            )
        hits.sort(key=lambda h: (-h.score, _PREFERENCE[h.entry.kind], h.entry.name))
        return hits

    def meaning(self, text: str) -> dict[int, float]:
        """Cosine similarity of ``text`` to the nearest entries' texts, by entry number (the
        best of the entries kept under one name, and nearly the best of the playbooks of one
        service); empty without an embedding index."""
        if self._semantic is None or not content_words(text):
            return {}
        found: dict[int, float] = {}
        for similar in self._semantic(text, _SEMANTIC_K):
            number = self._number_of_key.get(similar.key)
            if number is not None and similar.similarity > found.get(number, -1.0):
                found[number] = similar.similarity
        for numbers in self._services.values():
            best = max((found[n] for n in numbers if n in found), default=None)
            if best is not None:
                for number in numbers:
                    found[number] = max(found.get(number, -1.0), best - _SERVICE_DISCOUNT)
        return found

    def _query(self, text: str) -> list[str]:
        raw = tokens(text)
        query = content_words(text)
        # "back up" is "backup", "web ui" is "webui": keep joined pairs the index knows.
        for first, second in itertools.pairwise(raw):
            joined = stem(first + second)
            if joined in self._bm25:
                query.append(joined)
        return query

    @staticmethod
    def _action_factor(wanted: Action | None, named: Action | None) -> float:
        if named is None:
            return 1.0
        if wanted is None:
            wanted = Action.INSTALL
        return 1.05 if wanted is named else 0.55


def _semantic_score(cosine: float) -> float:
    """Cosine similarity mapped to [0, 1]: 0 up to the floor, THRESHOLD at
    ``_COSINE_AT_THRESHOLD``, linear in between and beyond."""
    span = (_COSINE_AT_THRESHOLD - _COSINE_FLOOR) / THRESHOLD
    return max(0.0, min(1.0, (cosine - _COSINE_FLOOR) / span))
