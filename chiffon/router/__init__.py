"""Router: the homelab's machines (agents), their resources, and where a step fits.

The agent process (``chiffon agent``) imports ``chiffon.router.agent``, which loads this package
first: so the service side (SQLAlchemy) is imported lazily, on first use of its names here.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .needs import Fit, Needs, NeedsError
from .protocol import Gpu, ProtocolError, Resources, UnsupportedProtocol

if TYPE_CHECKING:
    from ._views import AgentView, HistoryPoint
    from .events import AgentCameBack, AgentHeartbeatReceived, AgentWentOffline
    from .local import RouterUpkeep
    from .placement import Candidate, Placement, Router
    from .service import AgentAuthError, AgentError, AgentRegistry, HeartbeatFlood

_LAZY = {
    "AgentView": "._views",
    "HistoryPoint": "._views",
    "AgentCameBack": ".events",
    "AgentHeartbeatReceived": ".events",
    "AgentWentOffline": ".events",
    "RouterUpkeep": ".local",
    "Candidate": ".placement",
    "Placement": ".placement",
    "Router": ".placement",
    "AgentAuthError": ".service",
    "AgentError": ".service",
    "AgentRegistry": ".service",
    "HeartbeatFlood": ".service",
}

__all__ = [
    "AgentAuthError",
    "AgentCameBack",
    "AgentError",
    "AgentHeartbeatReceived",
    "AgentRegistry",
    "AgentView",
    "AgentWentOffline",
    "Candidate",
    "Fit",
    "Gpu",
    "HeartbeatFlood",
    "HistoryPoint",
    "Needs",
    "NeedsError",
    "Placement",
    "ProtocolError",
    "Resources",
    "Router",
    "RouterUpkeep",
    "UnsupportedProtocol",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
