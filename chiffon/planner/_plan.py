"""The plan a request gets: value types, their JSON form, and the risk assessment."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from chiffon.catalog import Entry
from chiffon.planner._inventory import InventoryFacts
from chiffon.planner._text import DESTRUCTIVE, tokens

if TYPE_CHECKING:
    from chiffon.planner._placement import StepPlacement

MANY_HOSTS = 10
_PRODUCTION = re.compile(r"(^|[^a-z])(prod|production|live|critical)([^a-z]|$)", re.I)


class StepStatus(StrEnum):
    MATCHED = "matched"
    NO_MATCH = "no_match"


class PlanStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        """Still awaiting a decision: it may be modified, previewed, approved or rejected."""
        return self is PlanStatus.PENDING_APPROVAL

    @property
    def is_finished(self) -> bool:
        return self in (
            PlanStatus.REJECTED,
            PlanStatus.SUCCEEDED,
            PlanStatus.FAILED,
            PlanStatus.CANCELLED,
        )


class StepState(StrEnum):
    """Where a stored plan's step is in its execution."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"

    @property
    def is_finished(self) -> bool:
        return self not in (StepState.PENDING, StepState.RUNNING)


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


def entry_json(entry: Entry) -> dict[str, Any]:
    return {
        "kind": str(entry.kind),
        "name": entry.name,
        "path": entry.path,
        "role": entry.role,
        "tags": list(entry.tags),
    }


@dataclass(frozen=True)
class Candidate:
    """An entry considered for a step, with its fused score and what matched (``reason``:
    "name 'kuma'", "words 0.62" or "meaning 0.71", the strongest of the three signals)."""

    entry: Entry
    score: float
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {**entry_json(self.entry), "score": self.score, "reason": self.reason}


@dataclass(frozen=True)
class Draft:
    """A generated playbook proposed for a step nothing in the repo fits: ``path`` is where
    it would be saved (relative to the repo). Never run before a person has reviewed it."""

    path: str
    text: str
    service: str
    template: str

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "service": self.service,
            "template": self.template,
            "text": self.text,
        }


@dataclass(frozen=True)
class LlmCall:
    """One call to an LLM provider (or one provider skipped for its quota) while planning."""

    provider: str
    model: str
    outcome: str  # ok | timeout | http_error | invalid_json | schema_error | quota_skip
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    detail: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "outcome": self.outcome,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "latency_ms": self.latency_ms,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class PlanStep:
    """One step: the clause it serves, the entry chosen (None when nothing fits), the top
    candidates, extra vars, the hosts named in the request (``target``), and the indexes of
    the steps that must finish first."""

    clause: str
    status: StepStatus
    entry: Entry | None
    confidence: float
    candidates: tuple[Candidate, ...]
    vars: dict[str, Any]
    depends_on: tuple[int, ...]
    target: str | None = None
    draft: Draft | None = None  # no_match steps: a generated playbook to review
    placement: StepPlacement | None = None  # where it runs, when its entry needs resources

    def to_json(self) -> dict[str, Any]:
        return {
            "clause": self.clause,
            "status": str(self.status),
            "entry": entry_json(self.entry) if self.entry is not None else None,
            "confidence": self.confidence,
            "candidates": [candidate.to_json() for candidate in self.candidates],
            "vars": self.vars,
            "target": self.target,
            "depends_on": list(self.depends_on),
            "draft": self.draft.to_json() if self.draft is not None else None,
            "placement": self.placement.to_json() if self.placement is not None else None,
        }


@dataclass(frozen=True)
class Risk:
    level: RiskLevel
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"level": str(self.level), "reasons": list(self.reasons)}


@dataclass(frozen=True)
class Plan:
    request: str
    status: PlanStatus
    planner: str
    risk: Risk
    steps: tuple[PlanStep, ...]
    # The id that LLM usage rows carry (and the stored plan will); None when not planned yet.
    correlation_id: str | None = None
    usage: tuple[LlmCall, ...] = ()  # LLM calls made for this plan, in order

    @property
    def matched(self) -> bool:
        """True when every step found an entry (and there is at least one step)."""
        return bool(self.steps) and all(s.status is StepStatus.MATCHED for s in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "request": self.request,
            "status": str(self.status),
            "planner": self.planner,
            "risk": self.risk.to_json(),
            "steps": [step.to_json() for step in self.steps],
            "correlation_id": self.correlation_id,
            "usage": [call.to_json() for call in self.usage],
        }


def unreviewed(entry: Entry) -> bool:
    """A playbook Chiffon generated that no person has marked ``reviewed: true`` yet."""
    return entry.header.get("generated") is True and entry.header.get("reviewed") is not True


def assess_risk(
    request: str, steps: tuple[PlanStep, ...], facts: InventoryFacts | None = None
) -> Risk:
    """High for destructive verbs, an invalid or an unreviewed generated entry; medium for plays
    that become root, run on every host, on more than ``MANY_HOSTS`` hosts or on
    production-like groups; else low."""
    reasons: list[str] = []
    level = RiskLevel.LOW
    destructive = sorted(set(tokens(request)) & DESTRUCTIVE)
    if destructive:
        level = RiskLevel.HIGH
        reasons.append(f"destructive request: {', '.join(destructive)}")
    for step in steps:
        if step.entry is not None and not step.entry.valid:
            reasons.append(f"{step.entry.name} cannot run until fixed: {step.entry.error}")
            level = RiskLevel.HIGH
        if step.entry is not None and step.entry.become:
            reasons.append(f"{step.entry.name} runs tasks as root (become)")
            level = RiskLevel.MEDIUM if level is RiskLevel.LOW else level
        if step.entry is not None and unreviewed(step.entry):
            reasons.append(f"{step.entry.name} was generated and cannot run until reviewed")
            level = RiskLevel.HIGH
        hosts = step.target or (step.entry.hosts if step.entry is not None else None)
        if not hosts or step.entry is None:
            continue
        count = facts.hosts_of(hosts) if facts is not None else None
        if count is not None and count > MANY_HOSTS:
            reasons.append(f"{step.entry.name} runs on {count} hosts ({hosts})")
        elif hosts.strip() in {"all", "*"}:
            reasons.append(f"{step.entry.name} runs on every host (hosts: {hosts})")
        elif _PRODUCTION.search(hosts):
            reasons.append(f"{step.entry.name} targets a production-like group ({hosts})")
        else:
            continue
        if level is RiskLevel.LOW:
            level = RiskLevel.MEDIUM
    return Risk(level, tuple(reasons))
