"""The analyzer's subscriptions: what it does when other modules' events arrive."""

from __future__ import annotations

from chiffon.bus import Subscriptions
from chiffon.executor import RunFinished

from .service import AnalyzerService

__all__ = ["subscriptions"]


def subscriptions(service: AnalyzerService) -> Subscriptions:
    """The table ``EventBus.register`` takes, bound to ``service``."""
    return {RunFinished: [service.when_run_finished_diagnose]}
