"""Router: which host a step should run on, judged from the agents' latest heartbeats."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._views import AgentView
from .needs import Fit, Needs, evaluate
from .service import AgentRegistry

__all__ = ["Candidate", "Placement", "Router"]


@dataclass(frozen=True)
class Candidate:
    """One host considered: whether it fits, why, and its headroom (higher is roomier)."""

    host: str
    fits: bool
    reason: str
    headroom: float
    agent: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "fits": self.fits,
            "reason": self.reason,
            "headroom": self.headroom,
            "agent": self.agent,
        }


@dataclass(frozen=True)
class Placement:
    """The chosen host (``None`` when none fits), why in words, and the other hosts considered."""

    host: str | None
    reason: str
    alternatives: tuple[Candidate, ...]
    chosen: Candidate | None = None  # the chosen host as judged (its headroom, its agent)

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "reason": self.reason,
            "alternatives": [candidate.to_json() for candidate in self.alternatives],
        }


def _judge(host: str, needs: Needs, agents: list[AgentView]) -> Candidate:
    if not agents:
        return Candidate(host, False, f"{host}: no agent reports for this host", -1.0, None)
    online = [a for a in agents if a.online and a.resources is not None]
    if not online:
        agent = agents[0]
        seen = agent.last_seen_at.isoformat(timespec="seconds") if agent.last_seen_at else "never"
        return Candidate(
            host, False, f"{host}: agent {agent.name} is {agent.status} (last seen {seen})",
            -1.0, agent.name,
        )  # fmt: skip
    judged: list[tuple[Fit, AgentView]] = []
    for agent in online:
        assert agent.resources is not None
        judged.append((evaluate(needs, agent.resources, agent.labels), agent))
    fit, agent = max(judged, key=lambda pair: (pair[0].fits, pair[0].headroom))
    return Candidate(host, fit.fits, f"{host}: {fit.reason}", fit.headroom, agent.name)


class Router:
    def __init__(self, registry: AgentRegistry) -> None:
        self._registry = registry

    async def _candidates(self, needs: Needs, hosts: Sequence[str]) -> list[Candidate]:
        unique = list(dict.fromkeys(hosts))
        agents = await self._registry.agents_for_hosts(unique)
        by_host: dict[str, list[AgentView]] = {host: [] for host in unique}
        for agent in agents:
            by_host[agent.inventory_host].append(agent)
        return [_judge(host, needs, by_host[host]) for host in unique]

    async def place(self, needs: Needs, candidate_hosts: Sequence[str]) -> Placement:
        """The candidate host whose online agent meets ``needs`` with the most headroom.

        ``host`` is ``None`` when none fits; ``reason`` then names what each host lacks.
        ``alternatives`` holds every other host considered, roomiest first.
        """
        if not candidate_hosts:
            return Placement(None, "No candidate hosts to place on.", ())
        candidates = await self._candidates(needs, candidate_hosts)
        ranked = sorted(candidates, key=lambda c: (not c.fits, -c.headroom, c.host))
        best = ranked[0]
        if not best.fits:
            return Placement(
                None,
                f"No host has {needs.describe()}: " + "; ".join(c.reason for c in ranked) + ".",
                tuple(ranked),
            )
        others = [c for c in ranked[1:] if c.fits]
        why = f"{best.host} fits with the most headroom ({best.reason.split(': ', 1)[1]})"
        if others:
            why += f"; also fits: {', '.join(c.host for c in others)}"
        return Placement(best.host, why + ".", tuple(ranked[1:]), best)

    async def fits(self, needs: Needs, host: str) -> tuple[bool, str]:
        """Whether ``host``'s online agent meets ``needs`` now, and why (in words)."""
        (candidate,) = await self._candidates(needs, [host])
        return candidate.fits, candidate.reason
