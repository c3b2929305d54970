"""Executor rows: runs and the ansible events they produced."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chiffon.db import Base, utcnow


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    correlation_id: Mapped[str] = mapped_column(String(32), index=True)
    entry_kind: Mapped[str] = mapped_column(String(16))
    entry_name: Mapped[str] = mapped_column(String(255), index=True)
    entry_path: Mapped[str] = mapped_column(String(1024))
    entry_role: Mapped[str | None] = mapped_column(String(255))
    entry_hash: Mapped[str] = mapped_column(String(64))
    repo_commit: Mapped[str | None] = mapped_column(String(40))
    inventory: Mapped[str] = mapped_column(String(1024))
    limit: Mapped[str | None] = mapped_column(String(1024))
    tags: Mapped[str | None] = mapped_column(String(1024))
    extra_vars: Mapped[dict[str, Any]] = mapped_column(default=dict)  # secrets redacted
    check_mode: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), index=True)  # RunStatus
    rc: Mapped[int | None]
    host_stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(255), default="cli")
    owner: Mapped[str] = mapped_column(String(255), default="")  # "host:pid" running it
    event_count: Mapped[int] = mapped_column(default=0)
    audit_commit: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    # Capacity-aware placement (router): what the run needs, where it went, and why (or why
    # it waits, while paused_capacity).
    needs: Mapped[dict[str, Any] | None]
    placed_host: Mapped[str | None] = mapped_column(String(255))
    placement_reason: Mapped[str | None] = mapped_column(Text)
    # What the ansible process tree used (executor/_usage.py); NULL when never measured.
    usage_wall_s: Mapped[float | None]
    usage_cpu_s: Mapped[float | None]
    usage_peak_rss_bytes: Mapped[int | None] = mapped_column(BigInteger)


class RunEvent(Base):
    __tablename__ = "run_events"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    host: Mapped[str | None] = mapped_column(String(255))
    task: Mapped[str | None] = mapped_column(Text)
    stdout: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
