"""The analyzer's value types and errors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class AnalyzerError(Exception):
    """The analyzer cannot do what was asked; the message says why and what to do."""


class SuggestionNotFound(AnalyzerError):
    """No suggestion has this id."""


class SuggestionConflict(AnalyzerError):
    """The suggestion cannot be applied as it is (its file changed, or it was decided)."""


class SuggestionStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DISMISSED = "dismissed"

    @property
    def is_decided(self) -> bool:
        return self is not SuggestionStatus.OPEN


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class SuggestionView:
    id: int
    entry: str  # kind:name
    source: str
    category: str
    rule: str
    message: str
    file: str
    line: int | None
    severity: str
    reasoning: str
    file_hash: str
    fix_by: str | None  # who can compute the fix: "ansible-lint", "chiffon" or nobody
    fix_diff: str | None
    fix_error: str | None
    status: SuggestionStatus
    decided_by: str | None
    decided_at: dt.datetime | None
    reason: str | None
    commit_sha: str | None
    run_id: int | None

    @property
    def fixable(self) -> bool:
        return self.fix_by is not None and self.fix_error is None

    @property
    def fix_ready(self) -> bool:
        return self.fix_diff is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "entry": self.entry,
            "source": self.source,
            "category": self.category,
            "rule": self.rule,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "severity": self.severity,
            "reasoning": self.reasoning,
            "file_hash": self.file_hash,
            "fix": {
                "by": self.fix_by,
                "diff": self.fix_diff,
                "error": self.fix_error,
            },
            "status": str(self.status),
            "decided_by": self.decided_by,
            "decided_at": _iso(self.decided_at),
            "reason": self.reason,
            "commit": self.commit_sha,
            "run_id": self.run_id,
        }


@dataclass(frozen=True)
class Analysis:
    """The suggestions for one entry at one content hash."""

    entry: str  # kind:name
    entry_path: str
    content_hash: str
    lint_error: str | None
    seconds: float
    cached: bool
    suggestions: list[SuggestionView] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "entry": self.entry,
            "path": self.entry_path,
            "content_hash": self.content_hash,
            "lint_error": self.lint_error,
            "seconds": self.seconds,
            "cached": self.cached,
            "suggestions": [s.to_json() for s in self.suggestions],
        }


@dataclass(frozen=True)
class DiagnosisView:
    run_id: int
    failure_class: str
    title: str
    subject: str | None
    explanation: str
    remedy: str
    error: str
    output: str  # the failing event's output, ANSI colours kept
    task: str | None
    host: str | None
    hosts: list[str]
    module: str | None
    file: str | None
    line: int | None
    rc: int | None
    narrative: str | None  # the LLM's richer explanation, when one is configured
    entry_changed: bool  # the entry's files changed since the run
    created_at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "class": self.failure_class,
            "title": self.title,
            "subject": self.subject,
            "explanation": self.explanation,
            "remedy": self.remedy,
            "error": self.error,
            "output": self.output,
            "task": self.task,
            "host": self.host,
            "hosts": self.hosts,
            "module": self.module,
            "file": self.file,
            "line": self.line,
            "rc": self.rc,
            "narrative": self.narrative,
            "entry_changed": self.entry_changed,
            "created_at": _iso(self.created_at),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], created_at: dt.datetime) -> DiagnosisView:
        return cls(
            run_id=int(data["run_id"]),
            failure_class=str(data["class"]),
            title=str(data["title"]),
            subject=data.get("subject"),
            explanation=str(data["explanation"]),
            remedy=str(data["remedy"]),
            error=str(data.get("error", "")),
            output=str(data.get("output", "")),
            task=data.get("task"),
            host=data.get("host"),
            hosts=list(data.get("hosts") or []),
            module=data.get("module"),
            file=data.get("file"),
            line=data.get("line"),
            rc=data.get("rc"),
            narrative=data.get("narrative"),
            entry_changed=bool(data.get("entry_changed")),
            created_at=created_at,
        )


@dataclass(frozen=True)
class Diagnosed:
    """A failed run's diagnosis and the suggestions for its entry (None: not analysable)."""

    diagnosis: DiagnosisView
    analysis: Analysis | None
    analysis_error: str | None
