"""Reading run rows into views."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ._types import RunStatus, RunView
from ._usage import ResourceUsage
from .models import Run, RunEvent


def usage_of(run: Run) -> ResourceUsage | None:
    if run.usage_wall_s is None or run.usage_cpu_s is None:
        return None
    return ResourceUsage(run.usage_wall_s, run.usage_cpu_s, run.usage_peak_rss_bytes)


def store_usage(run: Run, usage: ResourceUsage | None) -> None:
    if usage is not None:
        run.usage_wall_s = usage.wall_s
        run.usage_cpu_s = usage.cpu_s
        run.usage_peak_rss_bytes = usage.peak_rss_bytes


def view_of(run: Run) -> RunView:
    return RunView(
        id=run.id,
        correlation_id=run.correlation_id,
        entry_kind=run.entry_kind,
        entry_name=run.entry_name,
        entry_path=run.entry_path,
        entry_role=run.entry_role,
        entry_hash=run.entry_hash,
        repo_commit=run.repo_commit,
        inventory=run.inventory,
        limit=run.limit,
        tags=run.tags,
        extra_vars=run.extra_vars,
        check_mode=run.check_mode,
        status=RunStatus(run.status),
        rc=run.rc,
        host_stats=run.host_stats,
        error=run.error,
        requested_by=run.requested_by,
        event_count=run.event_count,
        audit_commit=run.audit_commit,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        needs=run.needs,
        placed_host=run.placed_host,
        placement_reason=run.placement_reason,
        resources=usage_of(run),
    )


async def count_events(session: AsyncSession, run_id: int) -> int:
    count = await session.scalar(select(func.count()).where(RunEvent.run_id == run_id))
    return int(count or 0)
