"""The audit trail: every finished run committed to a git repo, and a check that DB and git agree.

The ``audit_records`` row is the outbox claim. Inserting it is the atomic claim (the primary key
makes a second insert fail on SQLite and PostgreSQL alike); the git commit follows and its sha
is stored on the row, then ``RunAudited`` is published so the executor stores it on the run.
A row left without a sha by a crash is taken over by ``commit_pending`` at the next start.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import CursorResult, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from chiffon.audit.events import RunAudited
from chiffon.audit.models import AuditRecord
from chiffon.audit.repo import AuditRepo, FileLookup
from chiffon.bus import EventBus
from chiffon.db import SessionFactory, utcnow
from chiffon.executor import RunFinished, RunView
from chiffon.lib.redact import redact_mapping

__all__ = [
    "AUTHOR",
    "AuditService",
    "RunReader",
    "VerifyReport",
    "record_bytes",
    "record_path",
    "run_record",
]

log = logging.getLogger("chiffon.audit")

AUTHOR = "Chiffon <chiffon@localhost>"
SUBJECT_RUN = "run"
RECORD_SCHEMA = 1


class RunReader(Protocol):
    """What the audit trail reads from the executor (its public service satisfies this)."""

    async def get_run(self, run_id: int) -> RunView | None: ...

    async def finished_runs_without_audit(self) -> list[int]: ...

    async def finished_runs(self) -> list[RunView]: ...


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def record_path(run_id: int) -> str:
    """Where a run's record lives in the audit repo."""
    return f".audit/runs/{run_id}.json"


def _iso(value: dt.datetime | None) -> str | None:
    # UTC always: PostgreSQL hands times back in the session's zone, SQLite in UTC.
    return value.astimezone(dt.UTC).isoformat() if value is not None else None


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
            "created_at": _iso(run.created_at),
            "started_at": _iso(run.started_at),
            "finished_at": _iso(run.finished_at),
            "duration_s": duration,
        },
        "event_count": run.event_count,
    }
    if run.resources is not None:
        record["resources"] = run.resources.to_json()
    return record


def record_bytes(record: dict[str, Any]) -> bytes:
    """The record serialized deterministically: sorted keys, 2-space indent, final newline."""
    text = json.dumps(record, sort_keys=True, indent=2, ensure_ascii=False, default=str)
    return (text + "\n").encode("utf-8")


def _commit_message(run: RunView) -> str:
    check = " (check mode)" if run.check_mode else ""
    return (
        f"run {run.id}: {run.entry_name} {run.status}{check}\n\n"
        f"Run-Id: {run.id}\nCorrelation-Id: {run.correlation_id}\n"
    )


def _differences(stored: Any, expected: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the keys whose values differ (a whole value when not both dicts)."""
    if not (isinstance(stored, dict) and isinstance(expected, dict)):
        return [] if stored == expected else [prefix or "(whole record)"]
    found: list[str] = []
    for key in sorted(set(stored) | set(expected), key=str):
        path = f"{prefix}.{key}" if prefix else str(key)
        if key not in stored:
            found.append(f"{path} (missing in git)")
        elif key not in expected:
            found.append(f"{path} (not in the database)")
        else:
            found.extend(_differences(stored[key], expected[key], path))
    return found


def _problems(
    run: RunView, record_sha: str | None, history: set[str], lookup: FileLookup | None
) -> list[str]:
    """What is wrong with one run's audit commit, as lines naming the run; [] when nothing."""
    where = f"run {run.id}"
    sha = run.audit_commit
    if sha is None or lookup is None:
        if record_sha is not None:
            return [
                f"{where}: the run has no audit commit but its audit record has {record_sha} "
                "(the next start links them)"
            ]
        return [f"{where}: no audit commit ({run.status} at {_iso(run.finished_at)})"]
    problems: list[str] = []
    if record_sha not in (None, sha):
        problems.append(
            f"{where}: the run's audit commit {sha} differs from its audit record's {record_sha}"
        )
    path = record_path(run.id)
    if not lookup.commit_exists:
        return [*problems, f"{where}: audit commit {sha} is not in the audit repo"]
    if sha not in history:
        problems.append(
            f"{where}: audit commit {sha} is not in the history of the audit repo's HEAD "
            "(was history rewritten?)"
        )
    if lookup.content is None:
        return [*problems, f"{where}: audit commit {sha} has no {path}"]
    try:
        stored = json.loads(lookup.content)
    except ValueError:
        return [*problems, f"{where}: {path} in audit commit {sha} is not valid JSON"]
    keys = _differences(stored, json.loads(record_bytes(run_record(run))))
    if keys:
        problems.append(
            f"{where}: {path} in audit commit {sha} differs from the database: " + ", ".join(keys)
        )
    return problems


class AuditService:
    def __init__(
        self,
        session_factory: SessionFactory,
        audit_dir: Path,
        bus: EventBus,
        executor: RunReader,
    ) -> None:
        self._sessions = session_factory
        self._repo = AuditRepo(audit_dir)
        self._bus = bus
        self._executor = executor
        # One process moves HEAD at a time; dulwich's ref CAS guards against other processes.
        self._lock = asyncio.Lock()

    @property
    def audit_dir(self) -> Path:
        return self._repo.path

    async def when_run_finished_commit(self, event: RunFinished) -> None:
        """Claim the run's audit record and commit it; a second claimant stops at the claim."""
        if await self._claim(event.run_id, event.correlation_id):
            await self._commit_run(event.run_id)

    async def commit_pending(self) -> list[int]:
        """Start-up sweep: commit every finished run the executor has no audit commit for.

        A claim without a sha is a crash's leftover at start-up and is taken over; a record
        with a sha the run lacks is published again. Returns the run ids handled; a run that
        fails is logged and the sweep goes on.
        """
        run_ids = await self._executor.finished_runs_without_audit()
        records = await self._records(run_ids)
        handled: list[int] = []
        for run_id in run_ids:
            try:
                if await self._resume(run_id, records.get(run_id)):
                    handled.append(run_id)
            except Exception:
                log.exception("audit commit of run %s failed; will retry at next start", run_id)
        return handled

    async def verify(self) -> VerifyReport:
        """Check every finished run against the audit repo; one problem line per finding."""
        runs = await self._executor.finished_runs()
        records = await self._records([run.id for run in runs])
        wanted = [(run.id, run.audit_commit) for run in runs if run.audit_commit is not None]
        history, lookups = await asyncio.to_thread(
            self._read_trail, [(sha, record_path(run_id)) for run_id, sha in wanted]
        )
        found = {run_id: lookup for (run_id, _), lookup in zip(wanted, lookups, strict=True)}
        problems: list[str] = []
        for run in sorted(runs, key=lambda run: run.id):
            record = records.get(run.id)
            record_sha = record.commit_sha if record is not None else None
            problems.extend(_problems(run, record_sha, history, found.get(run.id)))
        return VerifyReport(checked=len(runs), problems=problems)

    def _read_trail(self, wanted: list[tuple[str, str]]) -> tuple[set[str], list[FileLookup]]:
        return self._repo.history(), self._repo.read_files(wanted)

    async def _records(self, run_ids: list[int]) -> dict[int, AuditRecord]:
        found: dict[int, AuditRecord] = {}
        async with self._sessions() as session:
            # Chunks keep the IN list under every backend's bound-parameter limit.
            for start in range(0, len(run_ids), 500):
                chunk = run_ids[start : start + 500]
                rows = await session.scalars(
                    select(AuditRecord).where(
                        AuditRecord.subject == SUBJECT_RUN, AuditRecord.subject_id.in_(chunk)
                    )
                )
                found.update((row.subject_id, row) for row in rows)
        return found

    async def _resume(self, run_id: int, record: AuditRecord | None) -> bool:
        if record is not None and record.commit_sha is not None:
            # Committed and recorded, but the crash came before the run stored the sha.
            await self._bus.publish(RunAudited(run_id, record.commit_sha, record.correlation_id))
            return True
        if record is None:
            run = await self._executor.get_run(run_id)
            if run is None or not await self._claim(run_id, run.correlation_id):
                return False
        elif not await self._take_over(record):
            return False
        return await self._commit_run(run_id)

    async def _claim(self, run_id: int, correlation_id: str) -> bool:
        """Insert the run's audit record; False when another claimant inserted it first."""
        async with self._sessions() as session:
            try:
                await session.execute(
                    insert(AuditRecord).values(
                        subject=SUBJECT_RUN,
                        subject_id=run_id,
                        path=record_path(run_id),
                        correlation_id=correlation_id,
                        claimed_at=utcnow(),
                    )
                )
                await session.commit()
            except IntegrityError:
                await session.rollback()
                return False
        return True

    async def _take_over(self, record: AuditRecord) -> bool:
        """Re-claim a stale claim; False when another instance took it over first."""
        async with self._sessions() as session:
            result = await session.execute(
                update(AuditRecord)
                .where(
                    AuditRecord.subject == SUBJECT_RUN,
                    AuditRecord.subject_id == record.subject_id,
                    AuditRecord.commit_sha.is_(None),
                    AuditRecord.claimed_at == record.claimed_at,
                )
                .values(claimed_at=utcnow())
            )
            await session.commit()
        return _rowcount(result) == 1

    async def _release(self, run_id: int) -> None:
        async with self._sessions() as session:
            await session.execute(
                delete(AuditRecord).where(
                    AuditRecord.subject == SUBJECT_RUN,
                    AuditRecord.subject_id == run_id,
                    AuditRecord.commit_sha.is_(None),
                )
            )
            await session.commit()

    async def _commit_run(self, run_id: int) -> bool:
        """Commit a claimed run's record, store the sha, publish ``RunAudited``.

        Returns False (and gives the claim back) when the run is missing or not finished.
        """
        run = await self._executor.get_run(run_id)
        if run is None or not run.status.is_finished:
            log.warning("run %s is not finished (or gone); not committing it to the audit", run_id)
            await self._release(run_id)
            return False
        content = record_bytes(run_record(run))
        async with self._lock:
            sha = await asyncio.to_thread(
                self._repo.commit_file, record_path(run_id), content, _commit_message(run), AUTHOR
            )
        async with self._sessions() as session:
            result = await session.execute(
                update(AuditRecord)
                .where(
                    AuditRecord.subject == SUBJECT_RUN,
                    AuditRecord.subject_id == run_id,
                    AuditRecord.commit_sha.is_(None),
                )
                .values(commit_sha=sha, committed_at=utcnow())
            )
            await session.commit()
        if _rowcount(result) != 1:
            # A takeover elsewhere recorded its commit first; ours stays in history, unused.
            log.warning("run %s was recorded by another claimant; commit %s unused", run_id, sha)
            return False
        await self._bus.publish(RunAudited(run.id, sha, run.correlation_id))
        return True


def _rowcount(result: Any) -> int:
    return result.rowcount if isinstance(result, CursorResult) else 0
