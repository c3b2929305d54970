"""The audit list: committed records searched by time range, service, status and person."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select

from chiffon.audit.models import AuditRecord

__all__ = ["STATUSES", "AuditEntry", "AuditFilter", "AuditFilterError", "parse_filter", "query"]

# Finished runs' and decided plans' statuses: what a record can have.
STATUSES = ("succeeded", "failed", "cancelled", "interrupted", "rejected")
KINDS = ("run", "plan")
MAX_TEXT = 255
MAX_PAGE = 10_000


class AuditFilterError(ValueError):
    """A filter value cannot be used; the message names it and says what is expected."""


@dataclass(frozen=True)
class AuditFilter:
    since: dt.datetime | None = None  # inclusive
    until: dt.datetime | None = None  # exclusive
    service: str = ""
    status: str = ""
    person: str = ""
    kind: str = ""
    page: int = 1


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit list."""

    subject: str
    subject_id: int
    title: str
    status: str | None
    requested_by: str | None
    decided_by: str | None
    services: list[str]
    error: str | None
    finished_at: dt.datetime | None
    commit_sha: str | None
    committed_at: dt.datetime | None

    @property
    def url(self) -> str:
        return f"/audit/{self.subject}s/{self.subject_id}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.subject,
            "id": self.subject_id,
            "title": self.title,
            "status": self.status,
            "requested_by": self.requested_by,
            "decided_by": self.decided_by,
            "services": self.services,
            "error": self.error,
            "finished_at": _iso(self.finished_at),
            "commit": self.commit_sha,
            "committed_at": _iso(self.committed_at),
            "url": self.url,
        }


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value is not None else None


def _day(name: str, value: str) -> dt.datetime | None:
    """The start (UTC) of ``value``, a ``YYYY-MM-DD`` date or an ISO date-time."""
    value = value.strip()
    if not value:
        return None
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise AuditFilterError(
            f"{name} must be a date like 2025-03-01 (or a date and time), not {value[:40]!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def parse_filter(
    since: str = "",
    until: str = "",
    service: str = "",
    status: str = "",
    person: str = "",
    kind: str = "",
    page: int = 1,
) -> AuditFilter:
    """The filter a form or query string asks for. ``until`` as a date includes that whole
    day. Raises ``AuditFilterError`` naming the first bad value."""
    start = _day("from", since)
    end = _day("to", until)
    if end is not None and len(until.strip()) == 10:
        end += dt.timedelta(days=1)
    if start is not None and end is not None and start >= end:
        raise AuditFilterError(f"from ({since.strip()}) must be before to ({until.strip()})")
    status = status.strip().lower()
    if status and status not in STATUSES:
        raise AuditFilterError(f"status must be one of {', '.join(STATUSES)}, not {status[:40]!r}")
    kind = kind.strip().lower()
    if kind and kind not in KINDS:
        raise AuditFilterError(f"kind must be run or plan, not {kind[:40]!r}")
    for name, value in (("service", service), ("person", person)):
        if len(value) > MAX_TEXT:
            raise AuditFilterError(f"{name} is too long: at most {MAX_TEXT} characters")
    if not 1 <= page <= MAX_PAGE:
        raise AuditFilterError(f"page must be from 1 to {MAX_PAGE}")
    return AuditFilter(start, end, service.strip(), status, person.strip(), kind, page)


def query(wanted: AuditFilter, limit: int, offset: int) -> Select[AuditRecord]:
    """Committed (or being committed) records matching ``wanted``, newest first."""
    statement = select(AuditRecord)
    if wanted.since is not None:
        statement = statement.where(AuditRecord.finished_at >= wanted.since)
    if wanted.until is not None:
        statement = statement.where(AuditRecord.finished_at < wanted.until)
    if wanted.status:
        statement = statement.where(AuditRecord.status == wanted.status)
    if wanted.kind:
        statement = statement.where(AuditRecord.subject == wanted.kind)
    if wanted.service:
        statement = statement.where(
            AuditRecord.services.contains(wanted.service.lower(), autoescape=True)
        )
    if wanted.person:
        person = wanted.person.lower()
        statement = statement.where(
            or_(
                func.lower(AuditRecord.requested_by) == person,
                func.lower(AuditRecord.decided_by) == person,
            )
        )
    return (
        statement.order_by(
            AuditRecord.finished_at.desc().nulls_last(),
            AuditRecord.subject,
            AuditRecord.subject_id.desc(),
        )
        .limit(limit)
        .offset(offset)
    )


def entry_of(row: AuditRecord) -> AuditEntry:
    return AuditEntry(
        subject=row.subject,
        subject_id=row.subject_id,
        title=row.title or f"{row.subject} {row.subject_id}",
        status=row.status,
        requested_by=row.requested_by,
        decided_by=row.decided_by,
        # dict: each once, in order (rows indexed by migration 0008 may repeat a name)
        services=list(dict.fromkeys(name for name in (row.services or "").split("|") if name)),
        error=row.error,
        finished_at=row.finished_at,
        commit_sha=row.commit_sha,
        committed_at=row.committed_at,
    )
