"""Executor: runs catalog entries through ansible-runner and records every event."""

from ._types import EventView, LogLine, RunRequest, RunRequestError, RunStatus, RunView
from .events import RunEventRecorded, RunFinished, RunQueued, RunStarted
from .service import ExecutorService

__all__ = [
    "EventView",
    "ExecutorService",
    "LogLine",
    "RunEventRecorded",
    "RunFinished",
    "RunQueued",
    "RunRequest",
    "RunRequestError",
    "RunStarted",
    "RunStatus",
    "RunView",
]
