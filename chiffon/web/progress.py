"""Per-task progress of a run, folded from its ansible events as they arrive."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

from chiffon.lib.ansi import strip_ansi

OUTCOMES = ("ok", "changed", "failed", "skipped", "unreachable")

_RESULTS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_skipped": "skipped",
    "runner_on_unreachable": "unreachable",
}
_TASK_STARTS = frozenset({"playbook_on_task_start", "playbook_on_handler_task_start"})


class EventLike(Protocol):
    """What progress needs of an event (``EventView`` has it; so does a live event)."""

    @property
    def type(self) -> str: ...
    @property
    def host(self) -> str | None: ...
    @property
    def task(self) -> str | None: ...
    @property
    def stdout(self) -> str: ...


@dataclass
class TaskProgress:
    number: int
    name: str
    handler: bool = False
    hosts: dict[str, str] = field(default_factory=dict)  # host -> its outcome for this task

    @property
    def counts(self) -> dict[str, int]:
        """How many hosts ended the task with each outcome (every outcome present, maybe 0)."""
        seen = Counter(self.hosts.values())
        return {outcome: seen.get(outcome, 0) for outcome in OUTCOMES}


@dataclass
class Progress:
    tasks: list[TaskProgress] = field(default_factory=list)
    _by_name: dict[str, TaskProgress] = field(default_factory=dict, repr=False)

    @property
    def current(self) -> TaskProgress | None:
        return self.tasks[-1] if self.tasks else None

    def add(self, event: EventLike) -> bool:
        """Fold ``event`` in; return whether the progress changed."""
        if event.type in _TASK_STARTS:
            self._start(event.task or "(unnamed task)", event.type != "playbook_on_task_start")
            return True
        outcome = _RESULTS.get(event.type)
        if outcome is None or event.host is None:
            return False
        if outcome == "ok" and _changed(event.stdout):
            outcome = "changed"
        name = event.task or "(unnamed task)"
        task = self._by_name.get(name) or self._start(name, False)
        task.hosts[event.host] = outcome
        return True

    def _start(self, name: str, handler: bool) -> TaskProgress:
        task = TaskProgress(len(self.tasks) + 1, name, handler)
        self.tasks.append(task)
        self._by_name[name] = task
        return task


def _changed(stdout: str) -> bool:
    # Live events carry no result data, so "changed" is read from ansible's own line
    # ("changed: [host]"), which the default callback prints for every changed result.
    return strip_ansi(stdout).lstrip().startswith("changed:")
