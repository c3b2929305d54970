"""Per-agent heartbeat rate limit: a token bucket, so a restart's quick retry still passes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class FloodGuard:
    """Allow ``burst`` heartbeats at once, then one per ``interval_s`` seconds, per agent."""

    def __init__(self, burst: int, interval_s: float) -> None:
        self._burst = burst
        self._interval_s = interval_s
        self._buckets: dict[int, _Bucket] = {}

    def admit(self, agent_id: int, now: float) -> float:
        """0 when this heartbeat may pass, else the seconds until the next one may."""
        bucket = self._buckets.get(agent_id)
        if bucket is None:
            bucket = self._buckets[agent_id] = _Bucket(self._burst, now)
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(self._burst, bucket.tokens + elapsed / self._interval_s)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) * self._interval_s
