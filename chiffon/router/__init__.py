"""Router: the homelab's machines (agents), their resources, and where a step fits.

The agent process (``chiffon agent``) imports ``chiffon.router.agent``, which loads this package
first: so the service side (SQLAlchemy) is imported lazily, on first use of its names here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chiffon.lib.lazy import lazy_names

from .needs import Fit, Needs, NeedsError
from .protocol import Gpu, ProtocolError, Resources, UnsupportedProtocol

if TYPE_CHECKING:
    from ._views import AgentView, HistoryPoint
    from .events import AgentCameBack, AgentHeartbeatReceived, AgentWentOffline
    from .local import RouterUpkeep
    from .placement import Candidate, Placement, Router
    from .service import AgentAuthError, AgentError, AgentRegistry, HeartbeatFlood

_LAZY = {
    "AgentView": "_views",
    "HistoryPoint": "_views",
    "AgentCameBack": "events",
    "AgentHeartbeatReceived": "events",
    "AgentWentOffline": "events",
    "RouterUpkeep": "local",
    "Candidate": "placement",
    "Placement": "placement",
    "Router": "placement",
    "AgentAuthError": "service",
    "AgentError": "service",
    "AgentRegistry": "service",
    "HeartbeatFlood": "service",
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

__getattr__ = lazy_names(__name__, _LAZY)
