"""The in-process event bus.

Events are frozen dataclasses named in the past tense. Each module lists its handlers in one
``SUBSCRIPTIONS = {Event: [handler, ...]}`` table; ``app.py`` registers those tables here.
``publish`` awaits every handler in registration order, so a publisher knows its side effects
are done when it returns; a handler that raises is logged with the event's correlation id and
the remaining handlers still run. State must be in the database before its event is published.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

__all__ = ["EventBus", "Handler", "Subscriptions"]

log = logging.getLogger("chiffon.bus")

Handler = Callable[[Any], Awaitable[None]]
Subscriptions = Mapping[type, Iterable[Handler]]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[type, list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type, handler: Handler) -> None:
        self._handlers[event_type].append(handler)

    def unsubscribe(self, event_type: type, handler: Handler) -> None:
        if handler in self._handlers.get(event_type, []):
            self._handlers[event_type].remove(handler)

    def register(self, table: Subscriptions) -> None:
        for event_type, handlers in table.items():
            for handler in handlers:
                self.subscribe(event_type, handler)

    async def publish(self, event: object) -> None:
        for handler in list(self._handlers.get(type(event), ())):
            try:
                await handler(event)
            except Exception:
                correlation_id = getattr(event, "correlation_id", None)
                log.exception(
                    "handler %s failed for %s (correlation id %s)",
                    getattr(handler, "__qualname__", handler),
                    type(event).__name__,
                    correlation_id,
                    extra={"correlation_id": correlation_id},
                )
