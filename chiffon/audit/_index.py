"""What the audit list searches by: values copied onto the audit row when a record is
committed (status, people, services, time, why it failed)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from chiffon.audit._types import EntryResolver, RunReader
from chiffon.catalog import CatalogError
from chiffon.executor import RunView
from chiffon.planner import PlanRecord, PlanStatus

__all__ = ["IndexValues", "failure_of", "plan_index", "run_index", "service_names"]

_TITLE_CHARS = 200
_FAILURES = ("runner_on_failed", "runner_on_unreachable")


@dataclass(frozen=True)
class IndexValues:
    """What the audit list searches by, stored on the audit row beside the commit sha."""

    status: str
    title: str
    requested_by: str
    decided_by: str | None
    services: str
    error: str | None
    finished_at: dt.datetime | None

    def columns(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "title": self.title[:_TITLE_CHARS],
            "requested_by": self.requested_by[:255],
            "decided_by": self.decided_by[:255] if self.decided_by else None,
            "services": self.services[:1024],
            "error": self.error,
            "finished_at": self.finished_at,
        }


def _services(names: list[str | None]) -> str:
    """``|a|b|``: the names lower-cased, each once, in order (searched by substring)."""
    seen: list[str] = []
    for name in names:
        if name and name.lower() not in seen:
            seen.append(name.lower().replace("|", "/"))
    return "|" + "|".join(seen) + "|" if seen else ""


def run_index(run: RunView, services: list[str], error: str | None) -> IndexValues:
    """``services``: the catalog's service names for the run's entry (may be empty);
    ``error``: why it failed."""
    return IndexValues(
        status=str(run.status),
        title=run.entry_name + (" (check mode)" if run.check_mode else ""),
        requested_by=run.requested_by,
        decided_by=None,
        services=_services([run.entry_name, run.entry_role, *services]),
        error=error,
        finished_at=run.finished_at,
    )


def plan_index(plan: PlanRecord, services: list[str]) -> IndexValues:
    names: list[str | None] = []
    for step in plan.steps:
        if step.entry:
            names.extend([step.entry.get("name"), step.entry.get("role")])
    return IndexValues(
        status=str(plan.status),
        title=" ".join(plan.request.split()),
        requested_by=plan.requester,
        decided_by=plan.decided_by,
        services=_services([*names, *services]),
        error=plan.reason if plan.status is PlanStatus.REJECTED else plan.error,
        finished_at=plan.finished_at or plan.decided_at,
    )


async def failure_of(run: RunView, runs: RunReader) -> str | None:
    """Why a failed run failed, for the audit list: its error, else its first failed or
    unreachable task (``host: task: message``), else its return code."""
    if run.error or str(run.status) != "failed":
        return run.error
    after = 0
    while page := await runs.list_events(run.id, after, 1000):
        for event in page:
            if event.type in _FAILURES and not event.data.get("ignore_errors"):
                result = event.data.get("result") or {}
                message = result.get("msg") if isinstance(result, dict) else None
                return f"{event.host}: {event.task}: {message or event.type}"[:1000]
        after = page[-1].seq
    return f"failed with rc {run.rc}"


async def service_names(entries: EntryResolver | None, refs: list[str | None]) -> list[str]:
    """The catalog's service names of these entries (those it still knows)."""
    found: list[str] = []
    if entries is None:
        return found
    for ref in refs:
        if ref is None:
            continue
        try:
            entry = await entries.resolve(ref)
        except CatalogError:
            continue
        if entry.service:
            found.append(entry.service)
    return found
