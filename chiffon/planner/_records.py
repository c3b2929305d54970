"""Stored plans as read back: value types and their JSON (the API's and the audit's form)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from chiffon.planner._placement import StepPlacement
from chiffon.planner._plan import Draft, PlanStatus, RiskLevel, StepState, StepStatus


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class SavedDraft:
    """A step's generated draft as saved into the playbook repo (``commit`` None outside
    git, or while it is being written)."""

    clause: str
    path: str
    commit: str | None
    saved_by: str
    saved_at: dt.datetime


@dataclass(frozen=True)
class StepRecord:
    position: int
    clause: str
    match: StepStatus
    entry: dict[str, Any] | None  # kind, name, path, role, tags
    entry_hash: str | None
    confidence: float
    candidates: list[dict[str, Any]]
    vars: dict[str, Any]
    target: str | None
    depends_on: list[int]
    estimated_s: float | None
    state: StepState
    run_id: int | None
    preview_run_id: int | None
    placement: StepPlacement | None = None  # where it runs, when its entry needs resources

    @property
    def entry_ref(self) -> str | None:
        """What the executor resolves: the entry's path for playbooks and roles' dirs, or
        ``tag:name`` for a tag of a site playbook."""
        if self.entry is None:
            return None
        if self.entry["kind"] == "tag":
            return f"tag:{self.entry['name']}"
        return str(self.entry["path"])

    def to_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "clause": self.clause,
            "status": str(self.match),
            "entry": self.entry,
            "entry_hash": self.entry_hash,
            "confidence": self.confidence,
            "candidates": self.candidates,
            "vars": self.vars,
            "target": self.target,
            "depends_on": self.depends_on,
            "estimated_s": self.estimated_s,
            "state": str(self.state),
            "run_id": self.run_id,
            "preview_run_id": self.preview_run_id,
            "placement": self.placement.to_json() if self.placement is not None else None,
        }


@dataclass(frozen=True)
class PlanRecord:
    id: int
    correlation_id: str
    request: str
    requester: str
    status: PlanStatus
    planner: str
    risk_level: RiskLevel
    risk_reasons: list[str]
    estimated_s: float | None
    version: int
    decided_by: str | None
    decided_at: dt.datetime | None
    reason: str | None
    preview: dict[str, Any] | None
    error: str | None
    audit_commit: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    steps: tuple[StepRecord, ...]
    proposed: dict[str, Any]
    saved_drafts: tuple[SavedDraft, ...] = ()

    def draft_of(self, position: int) -> Draft | None:
        """The generated playbook proposed for the step at ``position`` when nothing matched
        it (found by the step's clause, so that reordering keeps it), or None."""
        step = next((s for s in self.steps if s.position == position), None)
        if step is None or step.entry is not None:
            return None
        for proposed in self.proposed.get("steps", []):
            draft = proposed.get("draft")
            if proposed.get("clause") == step.clause and isinstance(draft, dict):
                return Draft(
                    path=str(draft["path"]),
                    text=str(draft["text"]),
                    service=str(draft["service"]),
                    template=str(draft["template"]),
                )
        return None

    def saved_draft_of(self, position: int) -> SavedDraft | None:
        """Where the draft of the step at ``position`` was saved, or None."""
        step = next((s for s in self.steps if s.position == position), None)
        if step is None:
            return None
        return next((s for s in self.saved_drafts if s.clause == step.clause), None)

    @property
    def runnable(self) -> bool:
        """Every step has an entry (a step without one must be removed before approval)."""
        return bool(self.steps) and all(s.entry is not None for s in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "correlation_id": self.correlation_id,
            "request": self.request,
            "requester": self.requester,
            "status": str(self.status),
            "planner": self.planner,
            "risk": {"level": str(self.risk_level), "reasons": self.risk_reasons},
            "estimated_s": self.estimated_s,
            "version": self.version,
            "decided_by": self.decided_by,
            "decided_at": _iso(self.decided_at),
            "reason": self.reason,
            "preview": self.preview,
            "error": self.error,
            "audit_commit": self.audit_commit,
            "created_at": _iso(self.created_at),
            "finished_at": _iso(self.finished_at),
            "steps": [step.to_json() for step in self.steps],
        }
