"""Planner rows: one per call to an LLM provider (or per provider skipped for its quota).

``correlation_id`` is the plan's id as a string, with no foreign key: plans are stored by
another part of Chiffon, which links them by that id.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chiffon.db import Base, utcnow


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
