"""Events the analyzer publishes (state is stored before each is published)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RunDiagnosed:
    run_id: int
    failure_class: str
    correlation_id: str


@dataclass(frozen=True)
class SuggestionAccepted:
    suggestion_id: int
    rule: str
    file: str
    commit_sha: str | None  # None: the playbook repo is not a git repository
    accepted_by: str
