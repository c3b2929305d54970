"""What is committed to the audit repo: a finished run's and a decided plan's JSON record.

Both are rebuilt from the database by ``verify``, so they hold only stored values, in a
deterministic form (sorted keys, UTC times), and never a value that changes after the commit
(the subject's own audit commit, a plan's version counter).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from chiffon.approval import ChangeView
from chiffon.executor import RunView
from chiffon.lib.redact import redact_mapping
from chiffon.planner import PlanRecord, PlanStatus

__all__ = [
    "AUTHOR",
    "RECORD_SCHEMA",
    "SUBJECT_PLAN",
    "SUBJECT_RUN",
    "plan_commit_message",
    "plan_record",
    "plan_record_path",
    "record_bytes",
    "record_path",
    "run_commit_message",
    "run_record",
]

AUTHOR = "Chiffon <chiffon@localhost>"
SUBJECT_RUN = "run"
SUBJECT_PLAN = "plan"
RECORD_SCHEMA = 1


def record_path(run_id: int) -> str:
    """Where a run's record lives in the audit repo."""
    return f".audit/runs/{run_id}.json"


def plan_record_path(plan_id: int) -> str:
    """Where a plan's record lives in the audit repo."""
    return f".audit/plans/{plan_id}.json"


def iso(value: dt.datetime | None) -> str | None:
    # UTC always: PostgreSQL hands times back in the session's zone, SQLite in UTC.
    return value.astimezone(dt.UTC).isoformat() if value is not None else None


def record_bytes(record: dict[str, Any]) -> bytes:
    """The record serialized deterministically: sorted keys, 2-space indent, final newline."""
    text = json.dumps(record, sort_keys=True, indent=2, ensure_ascii=False, default=str)
    return (text + "\n").encode("utf-8")


def run_record(run: RunView) -> dict[str, Any]:
    """The JSON committed for a finished run; rebuilt from the database by ``verify``.

    The run's own audit commit is not part of it (it is not known until the commit exists).
    ``resources`` is there only for runs whose resources were measured: records committed
    before they were measured stay as they are and still match.
    """
    duration = None
    if run.started_at is not None and run.finished_at is not None:
        duration = round((run.finished_at - run.started_at).total_seconds(), 3)
    record: dict[str, Any] = {
        "schema": RECORD_SCHEMA,
        "run_id": run.id,
        "correlation_id": run.correlation_id,
        "entry": {
            "kind": run.entry_kind,
            "name": run.entry_name,
            "path": run.entry_path,
            "role": run.entry_role,
            "content_hash": run.entry_hash,
        },
        "repo_commit": run.repo_commit,
        "inventory": run.inventory,
        "limit": run.limit,
        "tags": run.tags,
        # Again here, though the executor stored them redacted: the trail is never rewritten.
        "extra_vars": redact_mapping(run.extra_vars),
        "check_mode": run.check_mode,
        "status": str(run.status),
        "rc": run.rc,
        "host_stats": run.host_stats,
        "error": run.error,
        "requested_by": run.requested_by,
        "timings": {
            "created_at": iso(run.created_at),
            "started_at": iso(run.started_at),
            "finished_at": iso(run.finished_at),
            "duration_s": duration,
        },
        "event_count": run.event_count,
    }
    if run.resources is not None:
        record["resources"] = run.resources.to_json()
    return record


def _redact_steps(plan_json: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a plan's JSON with every step's variables redacted."""
    copy = dict(plan_json)
    steps = copy.get("steps")
    if isinstance(steps, list):
        copy["steps"] = [
            {**step, "vars": redact_mapping(step.get("vars") or {})}
            if isinstance(step, Mapping)
            else step
            for step in steps
        ]
    return copy


def plan_record(
    plan: PlanRecord, changes: list[ChangeView], run_commits: Mapping[int, str | None]
) -> dict[str, Any]:
    """The JSON committed for a decided plan; rebuilt from the database by ``verify``.

    ``run_commits`` maps each step's run id to that run's audit commit: a plan is committed
    only once every run it made has one, so the trail links a plan to its runs' records.
    """
    if plan.status is PlanStatus.REJECTED:
        verdict: str | None = "rejected"
    else:
        verdict = "approved" if plan.decided_by else None
    return {
        "schema": RECORD_SCHEMA,
        "plan_id": plan.id,
        "correlation_id": plan.correlation_id,
        "request": plan.request,
        "requester": plan.requester,
        "planner": plan.planner,
        "proposed": _redact_steps(plan.proposed),
        "risk": {"level": str(plan.risk_level), "reasons": list(plan.risk_reasons)},
        "estimated_s": plan.estimated_s,
        "changes": [
            {
                "by": change.by,
                "action": change.action,
                "detail": redact_mapping(change.detail),
                "at": iso(change.at),
            }
            for change in changes
        ],
        "decision": {
            "verdict": verdict,
            "by": plan.decided_by,
            "at": iso(plan.decided_at),
            "reason": plan.reason,
        },
        "preview": plan.preview,
        "steps": [
            {
                "position": step.position,
                "clause": step.clause,
                "match": str(step.match),
                "entry": step.entry,
                "entry_hash": step.entry_hash,
                "vars": redact_mapping(step.vars),
                "target": step.target,
                "depends_on": list(step.depends_on),
                "state": str(step.state),
                "run_id": step.run_id,
                "preview_run_id": step.preview_run_id,
            }
            for step in plan.steps
        ],
        "runs": [
            {"step": step.position + 1, "run_id": step.run_id, "audit_commit": run_commits.get(run)}
            for step in plan.steps
            if (run := step.run_id) is not None
        ],
        "status": str(plan.status),
        "error": plan.error,
        "timings": {
            "created_at": iso(plan.created_at),
            "decided_at": iso(plan.decided_at),
            "finished_at": iso(plan.finished_at),
        },
    }


def run_commit_message(run: RunView) -> str:
    check = " (check mode)" if run.check_mode else ""
    return (
        f"run {run.id}: {run.entry_name} {run.status}{check}\n\n"
        f"Run-Id: {run.id}\nCorrelation-Id: {run.correlation_id}\n"
    )


def plan_commit_message(plan: PlanRecord) -> str:
    who = f" by {plan.decided_by}" if plan.decided_by else ""
    return (
        f"plan {plan.id}: {plan.status}{who}\n\n"
        f"Plan-Id: {plan.id}\nCorrelation-Id: {plan.correlation_id}\n"
    )
