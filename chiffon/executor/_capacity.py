"""Capacity-aware runs: place a run on a host with room before it starts, or pause it.

The executor asks a ``CapacityGate`` (the router) where the run fits. When nothing fits, the run
waits in ``paused_capacity`` and re-asks each time an agent for one of its hosts reports (the
router's heartbeat event wakes it through ``CapacitySignal``), until it fits, is cancelled, or
the wait times out.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ._types import RunRequest, RunRequestError

if TYPE_CHECKING:
    from chiffon.router import Needs, Placement


class CapacityGate(Protocol):
    async def place(self, needs: Needs, candidate_hosts: Sequence[str]) -> Placement: ...


class CapacitySignal:
    """Wakes the paused runs that wait on a host (or all of them, for a cancel or a stop)."""

    def __init__(self) -> None:
        self._waiting: dict[int, tuple[frozenset[str], asyncio.Event]] = {}

    def notify(self, host: str | None = None) -> None:
        for hosts, wake in self._waiting.values():
            if host is None or host in hosts:
                wake.set()

    @contextlib.contextmanager
    def waiting(self, run_id: int, hosts: Sequence[str]) -> Iterator[asyncio.Event]:
        wake = asyncio.Event()
        self._waiting[run_id] = (frozenset(hosts), wake)
        try:
            yield wake
        finally:
            self._waiting.pop(run_id, None)


@dataclass(frozen=True)
class PlacementOutcome:
    host: str | None  # None: cancelled, or nothing fitted before the deadline
    reason: str
    cancelled: bool = False


async def await_placement(
    gate: CapacityGate,
    signal: CapacitySignal,
    run_id: int,
    needs: Needs,
    hosts: Sequence[str],
    timeout_s: float,
    cancelled: threading.Event,
    pause: Callable[[str], Awaitable[None]],
) -> PlacementOutcome:
    """Where the run goes; ``pause(reason)`` is called when (and each time why) it must wait."""
    deadline = time.monotonic() + timeout_s
    paused_for: str | None = None
    with signal.waiting(run_id, hosts) as wake:
        while True:
            if cancelled.is_set():
                return PlacementOutcome(None, "", cancelled=True)
            wake.clear()  # before asking: a heartbeat landing meanwhile is not missed
            placement = await gate.place(needs, hosts)
            if placement.host is not None:
                return PlacementOutcome(placement.host, placement.reason)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return PlacementOutcome(None, placement.reason)
            if placement.reason != paused_for:
                paused_for = placement.reason
                await pause(placement.reason)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), remaining)


def with_candidate_hosts(request: RunRequest, can_place: bool) -> RunRequest:
    """``request`` with the hosts it may go to (``hosts``, else those named in ``limit``).

    Raises ``RunRequestError`` when it has needs but no host, or nothing can place it.
    """
    if request.needs is None:
        return request
    if not can_place:
        raise RunRequestError("This Chiffon cannot place runs by capacity (no router).")
    hosts = request.hosts or tuple(
        host.strip() for host in (request.limit or "").split(",") if host.strip()
    )
    if not hosts:
        raise RunRequestError(
            "A run with resource needs must name the hosts it may go to (hosts, or --limit)."
        )
    return dataclasses.replace(request, hosts=hosts)
