"""Executor: runs catalog entries through ansible-runner and records every event.

The service (the database layer) loads on first use: ``chiffon run`` starts ansible-playbook
through the adapter (``runner``, ``headstart``) before it imports the rest.
"""

from typing import TYPE_CHECKING

from chiffon.lib.lazy import lazy_names

from ._types import EventView, LogLine, RunRequest, RunRequestError, RunStatus, RunView
from ._usage import ResourceUsage
from .events import RunEventRecorded, RunFinished, RunPausedForCapacity, RunQueued, RunStarted

if TYPE_CHECKING:
    from .service import ExecutorService

__getattr__ = lazy_names(__name__, {"ExecutorService": "service"})

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
