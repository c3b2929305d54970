"""Planner rows: a request's plan and its steps (the plan as proposed, then as decided), and one
row per call to an LLM provider (or per provider skipped for its quota), linked to its plan by
the correlation id."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chiffon.db import Base, utcnow


class PlanRow(Base):
    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    correlation_id: Mapped[str] = mapped_column(String(32), index=True)
    request: Mapped[str] = mapped_column(Text)
    requester: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(24), index=True)  # PlanStatus
    planner: Mapped[str] = mapped_column(String(64))
    risk_level: Mapped[str] = mapped_column(String(8))
    risk_reasons: Mapped[list[Any]] = mapped_column(default=list)
    estimated_s: Mapped[float | None]
    proposed: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the plan's JSON as proposed
    # Compare-and-swap counter: every change bumps it, so two deciders cannot both win.
    version: Mapped[int] = mapped_column(default=1)
    decided_by: Mapped[str | None] = mapped_column(String(255))
    decided_at: Mapped[dt.datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    preview: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    audit_commit: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[dt.datetime | None]


class PlanStepRow(Base):
    __tablename__ = "plan_steps"

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    clause: Mapped[str] = mapped_column(Text)
    match: Mapped[str] = mapped_column(String(16))  # StepStatus: matched / no_match
    entry: Mapped[dict[str, Any] | None]  # kind, name, path, role, tags
    entry_hash: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(default=0.0)
    candidates: Mapped[list[Any]] = mapped_column(default=list)
    vars: Mapped[dict[str, Any]] = mapped_column(default=dict)
    target: Mapped[str | None] = mapped_column(String(1024))
    depends_on: Mapped[list[Any]] = mapped_column(default=list)
    estimated_s: Mapped[float | None]
    state: Mapped[str] = mapped_column(String(16), default="pending")  # StepState
    run_id: Mapped[int | None]
    preview_run_id: Mapped[int | None]
    # Where the step runs when its entry needs resources: the router's pick and why, and a
    # person's override (StepPlacement's JSON); None for a step that is not placed.
    placement: Mapped[dict[str, Any] | None]


class LlmUsage(Base):
    __tablename__ = "llm_usage"
    # The quota sums one provider's tokens over a recent window.
    __table_args__ = (Index("ix_llm_usage_provider_at", "provider", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(255))
    correlation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    prompt_tokens: Mapped[int] = mapped_column(default=0)
    completion_tokens: Mapped[int] = mapped_column(default=0)
    latency_ms: Mapped[int] = mapped_column(default=0)
    # ok | timeout | http_error | invalid_json | schema_error | quota_skip
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SavedDraftRow(Base):
    """A plan step's generated draft saved into the playbook repo (once per step's clause):
    the row is claimed before the file is written, so a second save is refused."""

    __tablename__ = "saved_drafts"
    __table_args__ = (UniqueConstraint("plan_id", "clause"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    clause: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(String(1024))  # relative to the playbook repo
    commit: Mapped[str | None] = mapped_column(String(40))  # None outside git, or not yet
    saved_by: Mapped[str] = mapped_column(String(255))
    saved_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
