"""Executor: runs catalog entries through ansible-runner and records every event."""

from ._types import EventView, LogLine, RunRequest, RunRequestError, RunStatus, RunView
from ._usage import ResourceUsage
from .events import RunEventRecorded, RunFinished, RunPausedForCapacity, RunQueued, RunStarted
from .service import ExecutorService

__all__ = [
    "EventView",
    "ExecutorService",
    "LogLine",
    "ResourceUsage",
    "RunEventRecorded",
    "RunFinished",
    "RunPausedForCapacity",
    "RunQueued",
    "RunRequest",
    "RunRequestError",
    "RunStarted",
    "RunStatus",
    "RunView",
]
