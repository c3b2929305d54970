"""The router's background work in the server: the Chiffon host's own agent, the offline
sweep and heartbeat pruning."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from chiffon import __version__

from .probes import GpuReader, open_gpu_reader, prime_cpu_percent, probe_resources
from .protocol import Heartbeat
from .service import AgentRegistry

__all__ = ["RouterUpkeep"]

log = logging.getLogger("chiffon.router")

PRUNE_EVERY_S = 600


class RouterUpkeep:
    """Runs while the server serves; ``local_host`` empty turns the local agent off."""

    def __init__(
        self,
        registry: AgentRegistry,
        local_host: str,
        interval_s: float,
        gpu_reader: Callable[[], GpuReader] = open_gpu_reader,
    ) -> None:
        self._registry = registry
        self._local_host = local_host
        self._interval_s = interval_s
        self._open_gpus = gpu_reader
        self._gpus: GpuReader | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def beat_local(self) -> None:
        """Probe this machine (on a worker thread: NVML may block) and record it."""
        if self._gpus is None:
            self._gpus = await asyncio.to_thread(self._open_gpus)
        resources = await asyncio.to_thread(probe_resources, self._gpus)
        heartbeat = Heartbeat(resources=resources, agent_version=__version__)
        await self._registry.record_local(heartbeat, self._local_host)

    async def _every(
        self, seconds: float, work: Callable[[], object], what: str, first_after_s: float = 0
    ) -> None:
        await asyncio.sleep(first_after_s)
        while True:
            try:
                result = work()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("router %s failed; trying again in %.0f s", what, seconds)
            await asyncio.sleep(seconds)

    def start(self) -> None:
        if self._local_host:
            prime_cpu_percent()
            self._tasks.append(
                asyncio.create_task(
                    # The first CPU figure needs an interval since priming.
                    self._every(self._interval_s, self.beat_local, "local probe", 0.5)
                )
            )
        sweep_every = max(1.0, self._registry.offline_after_s / 9)
        self._tasks.append(
            asyncio.create_task(self._every(sweep_every, self._registry.sweep, "offline sweep"))
        )
        self._tasks.append(
            asyncio.create_task(self._every(PRUNE_EVERY_S, self._registry.prune, "pruning"))
        )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._gpus is not None:
            self._gpus.close()
            self._gpus = None
