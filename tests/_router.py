"""Helpers for router tests: heartbeat bodies, a clock tests move, and a fake NVML library."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


def heartbeat_body(
    *,
    cores_total: int = 8,
    cores_free: float = 6.0,
    memory_total_mb: int = 32_000,
    memory_available_mb: int = 20_000,
    gpus: list[dict[str, Any]] | None = None,
    **top: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "protocol": "1.0",
        "resources": {
            "cpu": {
                "percent": round(100 * (1 - cores_free / cores_total), 1),
                "cores_total": cores_total,
                "cores_free": cores_free,
            },
            "memory": {"total_mb": memory_total_mb, "available_mb": memory_available_mb},
            "disk": {"path": "/", "total_mb": 500_000, "free_mb": 200_000},
            "gpus": gpus or [],
        },
    }
    body.update(top)
    return body


def gpu(
    index: int, total: int, free: int, name: str = "RTX 4090", util: float = 5
) -> dict[str, Any]:
    return {
        "index": index,
        "name": name,
        "vram_total_mb": total,
        "vram_free_mb": free,
        "utilization_percent": util,
    }


class Clock:
    """The registry's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@dataclass
class _Memory:
    total: int
    free: int
    used: int


@dataclass
class _Utilization:
    gpu: int
    memory: int


class FakeNvmlError(Exception):
    pass


class FakeNvml:
    """The part of NVML's API (pynvml) that the probe uses, reporting the GPUs given.

    Each GPU is ``(name, total_bytes, free_bytes, utilisation)``; ``fail_at`` makes reading
    that GPU raise like a GPU fallen off the bus.
    """

    NVMLError = FakeNvmlError

    def __init__(self, gpus: list[tuple[str, int, int, int]], fail_at: int | None = None) -> None:
        self.gpus = gpus
        self.fail_at = fail_at
        self.initialised = False
        self.shut_down = False

    def nvmlInit(self) -> None:
        self.initialised = True

    def nvmlShutdown(self) -> None:
        self.shut_down = True

    def nvmlDeviceGetCount(self) -> int:
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        if index == self.fail_at:
            raise FakeNvmlError("GPU is lost")
        return index

    def nvmlDeviceGetName(self, handle: int) -> str:
        return self.gpus[handle][0]

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> _Memory:
        _, total, free, _ = self.gpus[handle]
        return _Memory(total, free, total - free)

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> _Utilization:
        return _Utilization(self.gpus[handle][3], 0)
