"""What a step needs from a machine, and how well one machine's latest resources meet it.

Pure functions on values: the placement service feeds them the agents' latest heartbeats.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .protocol import Resources

__all__ = ["Fit", "Needs", "NeedsError", "evaluate"]

_NUMBERS = ("min_gpu_vram_mb", "min_cpu_cores", "min_memory_mb")


class NeedsError(ValueError):
    """A ``resources:`` declaration that cannot be used; the message says which key and why."""


@dataclass(frozen=True)
class Needs:
    min_gpu_vram_mb: int = 0
    min_cpu_cores: float = 0
    min_memory_mb: int = 0
    labels: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, declared: Mapping[str, Any] | None) -> Needs:
        """Needs from an entry header's ``resources:`` mapping; raise ``NeedsError``."""
        if not declared:
            return cls()
        unknown = sorted(set(declared) - {*_NUMBERS, "labels"})
        if unknown:
            raise NeedsError(
                f"unknown resource need(s) {', '.join(unknown)}; known: "
                + ", ".join((*_NUMBERS, "labels"))
            )
        values: dict[str, Any] = {}
        for key in _NUMBERS:
            value = declared.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise NeedsError(f"{key} must be a number, not {value!r}")
            if not math.isfinite(value) or value < 0:
                raise NeedsError(f"{key} must be 0 or more, not {value!r}")
            values[key] = value if key == "min_cpu_cores" else int(value)
        labels = declared.get("labels", [])
        if isinstance(labels, str):
            labels = [part.strip() for part in labels.split(",") if part.strip()]
        if not isinstance(labels, list | tuple) or not all(isinstance(x, str) for x in labels):
            raise NeedsError("labels must be a list of labels such as [gpu, docker]")
        return cls(labels=tuple(sorted(set(labels))), **values)

    @property
    def is_empty(self) -> bool:
        return self == Needs()

    def to_json(self) -> dict[str, Any]:
        return {
            "min_gpu_vram_mb": self.min_gpu_vram_mb,
            "min_cpu_cores": self.min_cpu_cores,
            "min_memory_mb": self.min_memory_mb,
            "labels": list(self.labels),
        }

    def describe(self) -> str:
        parts = []
        if self.min_cpu_cores:
            parts.append(f"{self.min_cpu_cores:g} free cores")
        if self.min_memory_mb:
            parts.append(f"{self.min_memory_mb:,} MB memory")
        if self.min_gpu_vram_mb:
            parts.append(f"{self.min_gpu_vram_mb:,} MB free VRAM on one GPU")
        if self.labels:
            parts.append("label(s) " + ", ".join(self.labels))
        return ", ".join(parts) or "nothing in particular"


@dataclass(frozen=True)
class Fit:
    """Whether one machine meets the needs, in words, and its headroom (higher is roomier)."""

    fits: bool
    reason: str
    headroom: float


def evaluate(needs: Needs, resources: Resources, labels: tuple[str, ...]) -> Fit:
    """How ``resources`` (with ``labels``) meet ``needs``: every shortfall named, or the room."""
    shortfalls: list[str] = []
    room: list[str] = []
    shares: list[float] = []

    missing = sorted(set(needs.labels) - set(labels))
    if missing:
        shortfalls.append("lacks label(s) " + ", ".join(missing))

    cores = resources.cores_free
    if cores < needs.min_cpu_cores:
        shortfalls.append(f"{cores:g} cores free, needs {needs.min_cpu_cores:g}")
    room.append(f"{cores:g} of {resources.cores_total} cores free")
    shares.append((cores - needs.min_cpu_cores) / resources.cores_total)

    memory = resources.memory_available_mb
    if memory < needs.min_memory_mb:
        shortfalls.append(f"{memory:,} MB memory available, needs {needs.min_memory_mb:,} MB")
    room.append(f"{memory:,} MB memory available")
    shares.append((memory - needs.min_memory_mb) / max(resources.memory_total_mb, 1))

    if needs.min_gpu_vram_mb:
        best = max(resources.gpus, key=lambda gpu: gpu.vram_free_mb, default=None)
        if best is None:
            shortfalls.append(f"has no GPU, needs {needs.min_gpu_vram_mb:,} MB VRAM")
        else:
            if best.vram_free_mb < needs.min_gpu_vram_mb:
                shortfalls.append(
                    f"best GPU has {best.vram_free_mb:,} MB VRAM free, "
                    f"needs {needs.min_gpu_vram_mb:,} MB"
                )
            room.append(f"{best.vram_free_mb:,} MB VRAM free on GPU {best.index} ({best.name})")
            shares.append((best.vram_free_mb - needs.min_gpu_vram_mb) / best.vram_total_mb)

    headroom = round(sum(shares) / len(shares), 4)
    if shortfalls:
        return Fit(False, "; ".join(shortfalls), headroom)
    return Fit(True, ", ".join(room), headroom)
