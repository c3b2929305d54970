"""Splitting a request into clauses, and putting the resulting steps in a runnable order."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from chiffon.planner._text import Action, action_of, tokens

# Longest connectors first: ", and then" must not be read as "," + "and" + "then".
_SEQUENTIAL = r",?\s*\band\s+then\b|,?\s*\bthen\b|,?\s*\b(?:and\s+)?after\s+that\b|\bafterwards\b"
_PARALLEL = r";|,\s*\band\b|,|\band\b|&|\balso\b|(?<=[a-z0-9)])\.\s+"
_SPLIT = re.compile(rf"\s*(?:(?P<seq>{_SEQUENTIAL})|(?P<par>{_PARALLEL}))\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Clause:
    """One part of a request.

    ``after_previous`` is True when the person said it comes after the clause before ("then",
    "after that"); ``action`` is the clause's own verb or, when it has none, the one before it
    ("set up prometheus, grafana and loki": install all three).
    """

    text: str
    action: Action | None
    own_action: bool
    after_previous: bool


def split_clauses(request: str) -> list[Clause]:
    """The request's clauses in the order written; empty parts are dropped."""
    parts: list[tuple[str, bool]] = []
    position, sequential = 0, False
    for found in _SPLIT.finditer(request):
        parts.append((request[position : found.start()], sequential))
        position, sequential = found.end(), found.group("seq") is not None
    parts.append((request[position:], sequential))
    clauses: list[Clause] = []
    action: Action | None = None
    for text, after in parts:
        text = text.strip(" \t\n.!?,;:")
        if not tokens(text):
            continue
        own = action_of(tokens(text))
        action = own or action
        clauses.append(Clause(text, action, own is not None, after and bool(clauses)))
    return clauses


def order_steps(count: int, before: Sequence[tuple[int, int]]) -> list[int]:
    """A stable topological order of ``count`` steps: ``(a, b)`` in ``before`` puts step ``a``
    ahead of step ``b``; otherwise the written order stays. Constraints that would form a cycle
    are ignored (the written order wins)."""
    edges: dict[int, set[int]] = {i: set() for i in range(count)}
    for a, b in before:
        if a != b and not _reaches(edges, b, a):
            edges[a].add(b)
    indegree = {i: 0 for i in range(count)}
    for targets in edges.values():
        for target in targets:
            indegree[target] += 1
    order: list[int] = []
    ready = sorted(i for i in range(count) if indegree[i] == 0)
    while ready:
        step = ready.pop(0)
        order.append(step)
        for target in sorted(edges[step]):
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
        ready.sort()
    return order


def _reaches(edges: dict[int, set[int]], start: int, goal: int) -> bool:
    seen, stack = set(), [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            stack.extend(edges[node])
    return False
