"""The audit service's collaborators (what it reads other modules through) and value types."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from chiffon.approval import ChangeView
from chiffon.catalog import Entry
from chiffon.executor import EventView, RunView
from chiffon.planner import PlanRecord

__all__ = ["AuditDetail", "EntryResolver", "NoPlans", "PlanReader", "RunReader", "parsed"]


class RunReader(Protocol):
    """What the audit trail reads from the executor (its public service satisfies this)."""

    async def get_run(self, run_id: int) -> RunView | None: ...

    async def finished_runs_without_audit(self) -> list[int]: ...

    async def finished_runs(self) -> list[RunView]: ...

    async def list_events(
        self, run_id: int, after_seq: int = 0, limit: int = 1000
    ) -> list[EventView]: ...


class PlanReader(Protocol):
    """What the audit trail reads about plans (the approval service satisfies this)."""

    async def find(self, plan_id: int) -> PlanRecord | None: ...

    async def changes(self, plan_id: int) -> list[ChangeView]: ...

    async def plan_of_run(self, run_id: int) -> int | None: ...

    async def decided_plans_without_audit(self) -> list[int]: ...

    async def decided_plans(self) -> list[PlanRecord]: ...


class EntryResolver(Protocol):
    """How the audit list learns an entry's service name (the catalog satisfies this)."""

    async def resolve(self, ref: str) -> Entry: ...


@dataclass(frozen=True)
class AuditDetail:
    """A run's or plan's audit: its database row, its commit and the JSON committed there."""

    subject: str
    subject_id: int
    db: dict[str, Any]
    commit: str | None
    record: Any  # the committed JSON; None without a commit (or the file missing)
    problems: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return self.commit is not None and not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.subject,
            "id": self.subject_id,
            "db": self.db,
            "commit": self.commit,
            "record": self.record,
            "verified": self.verified,
            "problems": self.problems,
        }


class NoPlans:
    """The plan reader when none is wired (tests of runs alone): there are no plans."""

    async def find(self, plan_id: int) -> PlanRecord | None:
        return None

    async def changes(self, plan_id: int) -> list[ChangeView]:
        return []

    async def plan_of_run(self, run_id: int) -> int | None:
        return None

    async def decided_plans_without_audit(self) -> list[int]:
        return []

    async def decided_plans(self) -> list[PlanRecord]:
        return []


def parsed(content: bytes | None) -> Any:
    """The committed JSON; its text when it is not JSON (a tampered file); None when absent."""
    if content is None:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", errors="replace")
