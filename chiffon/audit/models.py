"""Audit rows: one per subject committed (or being committed) to the audit repo.

A row is the outbox claim: inserted before the commit is written, completed with the commit
sha after. A row with no sha left by a crash is picked up again on the next start.

The row also keeps what the audit list searches by (status, people, services, time), copied
from the record when it is committed, so the list is one query on the audit's own table.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chiffon.db import Base, utcnow


class AuditRecord(Base):
    __tablename__ = "audit_records"

    subject: Mapped[str] = mapped_column(String(16), primary_key=True)  # "run" | "plan"
    subject_id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(255))
    correlation_id: Mapped[str] = mapped_column(String(32))
    commit_sha: Mapped[str | None] = mapped_column(String(40))
    claimed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    committed_at: Mapped[dt.datetime | None]
    # The search index (None until the record is committed).
    status: Mapped[str | None] = mapped_column(String(24), index=True)
    title: Mapped[str | None] = mapped_column(String(255))
    requested_by: Mapped[str | None] = mapped_column(String(255))
    decided_by: Mapped[str | None] = mapped_column(String(255))
    services: Mapped[str | None] = mapped_column(String(1024))  # "|name|role|service|", lower
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[dt.datetime | None] = mapped_column(index=True)
