"""Where a plan step runs: the router's pick among the hosts its target names, or a person's.

A step is placed when its entry declares resource needs (``resources:``) and its target (the
step's limit, else the play's hosts) names several inventory hosts: the router picks the host
whose agent meets the needs with the most headroom, and that host becomes the run's --limit.
Nothing fitting is no error: the run would wait in paused_capacity until a host has room.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from chiffon.catalog import Entry
from chiffon.db import utcnow
from chiffon.planner._inventory import InventoryFacts, mtimes, read_facts
from chiffon.router import Needs, NeedsError

if TYPE_CHECKING:
    from chiffon.router import Placement

__all__ = ["PlacementGate", "PlacementRefused", "StepPlacement", "StepPlacer"]


class PlacementGate(Protocol):
    async def place(self, needs: Needs, candidate_hosts: Sequence[str]) -> Placement: ...


class PlacementRefused(ValueError):
    """A person's placement that cannot be used; the message names the host and why."""


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _time(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else None


@dataclass(frozen=True)
class StepPlacement:
    """The router's pick for a step (``host``; None when none fits), why, every candidate
    judged (roomiest first), and a person's override (a limit within the target), if any."""

    needs: dict[str, Any]
    target: str  # the hosts pattern placed within
    hosts: tuple[str, ...]  # the hosts it names: the candidates
    host: str | None
    reason: str
    candidates: tuple[dict[str, Any], ...]  # host, fits, reason, headroom, agent
    placed_at: dt.datetime
    override: str | None = None
    override_hosts: tuple[str, ...] = ()
    override_by: str | None = None
    override_at: dt.datetime | None = None

    @property
    def limit(self) -> str | None:
        """The run's --limit: the override, else the router's pick; None when nothing fitted
        (the run is placed among ``hosts`` when it starts)."""
        return self.override or self.host

    @property
    def run_hosts(self) -> tuple[str, ...]:
        """The hosts the run may go to: capacity is checked on them again before it starts."""
        if self.override:
            return self.override_hosts
        return (self.host,) if self.host else self.hosts

    @property
    def needs_text(self) -> str:
        """The needs in words ("2 free cores, 8,000 MB free VRAM on one GPU")."""
        try:
            return Needs.from_mapping(self.needs).describe()
        except NeedsError:
            return str(self.needs)

    def overridden(
        self, limit: str, hosts: Sequence[str], by: str | None, at: dt.datetime | None
    ) -> StepPlacement:
        return replace(
            self, override=limit, override_hosts=tuple(hosts), override_by=by, override_at=at
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "needs": self.needs,
            "target": self.target,
            "hosts": list(self.hosts),
            "host": self.host,
            "reason": self.reason,
            "candidates": list(self.candidates),
            "placed_at": _iso(self.placed_at),
            "override": (
                {
                    "limit": self.override,
                    "hosts": list(self.override_hosts),
                    "by": self.override_by,
                    "at": _iso(self.override_at),
                }
                if self.override
                else None
            ),
            "limit": self.limit,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StepPlacement:
        override = data.get("override") or {}
        placed_at = _time(data.get("placed_at"))
        assert placed_at is not None
        return cls(
            needs=dict(data["needs"]),
            target=str(data["target"]),
            hosts=tuple(data["hosts"]),
            host=data.get("host"),
            reason=str(data["reason"]),
            candidates=tuple(data.get("candidates", ())),
            placed_at=placed_at,
            override=override.get("limit"),
            override_hosts=tuple(override.get("hosts", ())),
            override_by=override.get("by"),
            override_at=_time(override.get("at")),
        )


class StepPlacer:
    """Places steps through the router (``gate``), reading host names from the repo's inventory
    (read again only when its files change)."""

    def __init__(self, gate: PlacementGate, playbooks_dir: Path) -> None:
        self._gate = gate
        self._root = playbooks_dir
        self._facts: tuple[tuple[float, ...], InventoryFacts] | None = None

    async def _read(self) -> InventoryFacts:
        stamps = await asyncio.to_thread(mtimes, self._root)
        if self._facts is None or self._facts[0] != stamps:
            self._facts = (stamps, await asyncio.to_thread(read_facts, self._root))
        return self._facts[1]

    async def place(self, entry: Entry, target: str | None) -> StepPlacement | None:
        """The router's placement of ``entry`` within ``target`` (else the play's hosts); None
        when the entry needs nothing or the target does not name several inventory hosts."""
        try:
            needs = Needs.from_mapping(entry.resources)
        except NeedsError:
            return None  # the catalog marks such an entry invalid: it cannot run anyway
        if needs.is_empty:
            return None
        pattern = target or entry.hosts or "all"
        hosts = (await self._read()).hosts_in(pattern)
        if hosts is None or len(hosts) < 2:
            return None
        ordered = tuple(sorted(hosts))
        placed = await self._gate.place(needs, ordered)
        judged = ([placed.chosen] if placed.chosen else []) + list(placed.alternatives)
        return StepPlacement(
            needs.to_json(), pattern, ordered, placed.host, placed.reason,
            tuple(candidate.to_json() for candidate in judged), utcnow(),
        )  # fmt: skip

    async def override_hosts(self, placement: StepPlacement, limit: str) -> tuple[str, ...]:
        """The hosts ``limit`` names; raise ``PlacementRefused`` when it names a host or group
        the inventory does not list, or a host outside the placement's target."""
        facts = await self._read()
        parts = [part.strip() for part in re.split(r"[:,]", limit) if part.strip()]
        unknown = [p for p in parts if p.lstrip("!&") not in facts.names | {"all", "*"}]
        if unknown:
            raise PlacementRefused(
                f"{', '.join(unknown)}: no such host or group in the inventory"
                f" (the target {placement.target} has {', '.join(placement.hosts)})"
            )
        hosts = facts.hosts_in(limit) or frozenset()
        outside = sorted(hosts - set(placement.hosts))
        if outside:
            raise PlacementRefused(
                f"{', '.join(outside)} {'is' if len(outside) == 1 else 'are'} not in the step's "
                f"target {placement.target} ({', '.join(placement.hosts)}); pick one of those, "
                "or change the target first"
            )
        if not hosts:
            raise PlacementRefused(f"{limit} names no host of the target {placement.target}")
        return tuple(sorted(hosts))
