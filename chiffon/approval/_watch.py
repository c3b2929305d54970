"""Who is watching which plan: a plan page's stream wakes when its plan changed."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from chiffon.approval.events import PlanChanged
from chiffon.bus import Subscriptions


class PlanWatch:
    def __init__(self) -> None:
        self._waiting: dict[int, set[asyncio.Event]] = defaultdict(set)

    def subscriptions(self) -> Subscriptions:
        return {PlanChanged: [self.when_plan_changed_wake]}

    async def when_plan_changed_wake(self, event: PlanChanged) -> None:
        for waiter in self._waiting.get(event.plan_id, ()):
            waiter.set()

    def watch(self, plan_id: int) -> asyncio.Event:
        """An event set whenever the plan changes; give it back with ``forget``."""
        waiter = asyncio.Event()
        self._waiting[plan_id].add(waiter)
        return waiter

    def forget(self, plan_id: int, waiter: asyncio.Event) -> None:
        watchers = self._waiting.get(plan_id)
        if watchers is not None:
            watchers.discard(waiter)
            if not watchers:
                del self._waiting[plan_id]
