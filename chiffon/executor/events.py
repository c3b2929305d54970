"""Events the executor publishes (state is stored before each is published)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class RunQueued:
    run_id: int
    correlation_id: str


@dataclass(frozen=True)
class RunStarted:
    run_id: int
    correlation_id: str


@dataclass(frozen=True)
class RunEventRecorded:
    run_id: int
    seq: int
    type: str
    host: str | None
    task: str | None
    stdout: str
    created_at: dt.datetime
    correlation_id: str


@dataclass(frozen=True)
class RunFinished:
    run_id: int
    status: str
    rc: int | None
    correlation_id: str


@dataclass(frozen=True)
class RunPausedForCapacity:
    """No candidate host has what the run needs; it waits for a heartbeat showing capacity."""

    run_id: int
    reason: str
    correlation_id: str
