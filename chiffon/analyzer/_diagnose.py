"""Finding the failure in a run's events: which task, host, module, file:line and message.

``FailureFinder`` folds events one at a time (a run of 10,000 events is read in pages), then
``diagnosis`` classifies what it found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from chiffon.db import utcnow
from chiffon.lib.ansi import strip_ansi

from ._classify import Failure, classify
from ._types import DiagnosisView

_HARD_FAILURES = ("runner_on_failed", "runner_on_unreachable", "runner_item_on_failed", "error")
# The only events a diagnosis reads (the store filters on them: a run's thousands of ok
# results are never loaded).
EVENT_TYPES = (*_HARD_FAILURES, "verbose")
_ORIGIN = re.compile(r"Origin: (\S+?):(\d+)(?::\d+)?\s*$")
_ERROR_LINE = re.compile(r"^\s*(\[ERROR\]:|ERROR!)\s*(.*)$")
_ITEMS_FAILED = "One or more items failed"


class EventLike(Protocol):
    @property
    def seq(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def host(self) -> str | None: ...
    @property
    def task(self) -> str | None: ...
    @property
    def stdout(self) -> str: ...
    @property
    def data(self) -> dict[str, Any]: ...


@dataclass
class _Candidate:
    seq: int
    event_type: str
    host: str | None
    task: str | None
    data: dict[str, Any]
    stdout: str


@dataclass
class FailureFinder:
    """Folds a run's events (in ``seq`` order) and keeps what a diagnosis needs."""

    root: Path  # the playbook repo, to show files relative to it
    _last_failure: _Candidate | None = None
    _last_item_failure: _Candidate | None = None
    _failed_hosts: dict[str, list[str]] = field(default_factory=dict)
    _error_lines: list[str] = field(default_factory=list)
    _error_origin: tuple[str, int] | None = None

    def add(self, event: EventLike) -> None:
        if event.type in _HARD_FAILURES:
            if event.data.get("ignore_errors"):
                return
            candidate = _Candidate(
                event.seq, event.type, event.host, event.task, event.data, event.stdout
            )
            if event.type == "runner_item_on_failed":
                self._last_item_failure = candidate
                return
            self._last_failure = candidate
            if event.task and event.host:
                self._failed_hosts.setdefault(event.task, []).append(event.host)
        elif event.type == "verbose" and event.stdout and self._last_failure is None:
            self._read_verbose(strip_ansi(event.stdout))

    def _read_verbose(self, text: str) -> None:
        # Errors before any task runs (an unknown module, a YAML error) come as plain lines:
        # "[ERROR]: message", then "Origin: /path/file.yml:5:7" and the source around it.
        for line in text.splitlines():
            if match := _ERROR_LINE.match(line):
                self._error_lines.append(match[2])
            elif (match := _ORIGIN.search(line)) and self._error_origin is None:
                self._error_origin = (match[1], int(match[2]))

    @property
    def found(self) -> bool:
        return self._last_failure is not None or bool(self._error_lines)

    def failure(self, run_error: str | None = None, inventory: str | None = None) -> Failure:
        """The failure the events show; ``run_error`` (the run's own message) when none."""
        chosen = self._last_failure
        if chosen is None and self._error_lines:
            origin_file, origin_line = self._error_origin or (None, None)
            return Failure(
                event_type="error",
                text="\n".join(self._error_lines),
                file=self._relative(origin_file) if origin_file else None,
                line=origin_line,
                inventory=inventory,
            )
        if chosen is None:
            return Failure(event_type="none", text=run_error or "", inventory=inventory)
        result = dict(chosen.data.get("result") or {})
        item = self._last_item_failure
        if item is not None and str(result.get("msg", "")).startswith(_ITEMS_FAILED):
            result = {**result, **(item.data.get("result") or {})}
        file, _, line = str(chosen.data.get("task_path", "")).rpartition(":")
        pieces = [str(result.get(key, "")) for key in ("msg", "stderr", "module_stderr")]
        text = "\n".join(p for p in pieces if p) or strip_ansi(chosen.stdout)
        rc = result.get("rc")
        return Failure(
            event_type=chosen.event_type,
            text=text,
            host=chosen.host,
            task=chosen.task,
            module=chosen.data.get("task_action"),
            file=self._relative(file) if file else None,
            line=int(line) if line.isdigit() else None,
            rc=rc if isinstance(rc, int) else None,
            role=chosen.data.get("role"),
            inventory=inventory,
        )

    def output(self) -> str:
        """The failing event's own output (with its ANSI colours), for the page."""
        if self._last_failure is not None:
            return self._last_failure.stdout
        return "\n".join(self._error_lines)

    def failed_hosts(self, task: str | None) -> list[str]:
        return sorted(set(self._failed_hosts.get(task or "", [])))

    def _relative(self, path: str) -> str:
        try:
            return Path(path).resolve().relative_to(self.root).as_posix()
        except (ValueError, OSError):
            return path


def diagnosis_view(
    run_id: int, finder: FailureFinder, failure: Failure, entry_changed: bool
) -> DiagnosisView:
    """The classified ``failure`` as the diagnosis that is stored and shown."""
    found = classify(failure)
    return DiagnosisView(
        run_id=run_id,
        failure_class=str(found.failure_class),
        title=found.failure_class.label,
        subject=found.subject,
        explanation=found.explanation,
        remedy=found.remedy,
        error=failure.text,
        output=finder.output(),
        task=failure.task,
        host=failure.host,
        hosts=finder.failed_hosts(failure.task) or ([failure.host] if failure.host else []),
        module=failure.module,
        file=failure.file,
        line=failure.line,
        rc=failure.rc,
        narrative=None,
        entry_changed=entry_changed,
        created_at=utcnow(),
    )
