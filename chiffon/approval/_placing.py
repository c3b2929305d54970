"""A modified step's placement: placed again by the router, with a person's override checked
against the step's target (``StepPlacer`` says which hosts that is)."""

from __future__ import annotations

from collections.abc import Mapping

from chiffon.approval._errors import InvalidChange
from chiffon.catalog import Entry
from chiffon.db import utcnow
from chiffon.planner import PlacementRefused, PlanRecord, StepPlacement, StepPlacer, StepRecord


async def place_again(
    placer: StepPlacer,
    step: StepRecord,
    entry: Entry,
    target: str | None,
    asked: Mapping[int, str | None],
    by: str,
    dropped: dict[str, str],
) -> StepPlacement | None:
    """``step`` (at its current position) placed within ``target`` now, with the override
    ``asked`` for it (None or "": the router's pick), else the one it had. Raises
    ``InvalidChange`` for an override asked for that cannot be; one kept from before that no
    longer fits the target is left out and noted in ``dropped``."""
    fresh = await placer.place(entry, target)
    before = step.placement.override if step.placement is not None else None
    wanted = step.position in asked
    limit = (asked[step.position] or "").strip() if wanted else before
    if not limit:
        return fresh
    try:
        if fresh is None:
            raise PlacementRefused(
                f"{entry.name} has no placement to override: it declares no resource needs, "
                "or its target names fewer than two inventory hosts; change the step's target "
                "(limit) instead"
            )
        hosts = await placer.override_hosts(fresh, limit)
    except PlacementRefused as refused:
        if wanted:
            raise InvalidChange(f"step {step.position + 1}: {refused}") from None
        dropped[str(step.position + 1)] = limit  # the target changed under it
        return fresh
    if limit == before and step.placement is not None:  # kept: still the earlier person's
        kept = step.placement
        return fresh.overridden(limit, hosts, kept.override_by, kept.override_at)
    return fresh.overridden(limit, hosts, by, utcnow())


def changed_placements(plan: PlanRecord, asked: Mapping[int, str | None]) -> dict[str, str | None]:
    """The overrides ``asked`` that differ from the plan's, by step number (1-based)."""
    changed: dict[str, str | None] = {}
    for position, value in asked.items():
        placement = plan.steps[position].placement
        wanted = (value or "").strip() or None
        if wanted != (placement.override if placement is not None else None):
            changed[str(position + 1)] = wanted
    return changed
