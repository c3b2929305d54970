"""A preview's summary: per step, what a check-mode run says would change on each host."""

from __future__ import annotations

from typing import Any

from chiffon.executor import EventView, RunView
from chiffon.lib.ansi import strip_ansi

_MAX_DIFF_CHARS = 20_000


def step_preview(position: int, run: RunView, events: list[EventView]) -> dict[str, Any]:
    """``{"position", "run_id", "status", "hosts": {host: {changed, ok, failed, unreachable}},
    "changes": [{"host", "task", "diff"}]}`` for one check-mode run."""
    hosts = {
        host: {
            "changed": stats.get("changed", 0),
            "ok": stats.get("ok", 0),
            "failed": stats.get("failures", 0),
            "unreachable": stats.get("dark", 0),
        }
        for host, stats in (run.host_stats or {}).items()
    }
    changes: list[dict[str, Any]] = []
    budget = _MAX_DIFF_CHARS
    for event in events:
        if not event.data.get("changed"):
            continue
        diff = strip_ansi(event.stdout).strip()
        if budget <= 0:
            diff = "(more changes: open the preview run's log)"
        diff = diff[:budget]
        budget -= len(diff)
        changes.append({"host": event.host, "task": event.task, "diff": diff})
    return {
        "position": position,
        "run_id": run.id,
        "status": str(run.status),
        "error": run.error,
        "hosts": hosts,
        "changes": changes,
    }
