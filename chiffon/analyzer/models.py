"""Analyzer rows: lint results cached by content hash, their suggestions, run diagnoses."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chiffon.db import Base, utcnow


class LintResult(Base):
    """One analysis of one catalog entry at one content hash (the cache key)."""

    __tablename__ = "analyzer_lint_results"
    __table_args__ = (UniqueConstraint("entry_kind", "entry_path", "entry_name", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_kind: Mapped[str] = mapped_column(String(16))
    entry_name: Mapped[str] = mapped_column(String(255))
    entry_path: Mapped[str] = mapped_column(String(1024))
    content_hash: Mapped[str] = mapped_column(String(64))
    lint_error: Mapped[str | None] = mapped_column(Text)  # ansible-lint missing or crashed
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Suggestion(Base):
    __tablename__ = "analyzer_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(
        ForeignKey("analyzer_lint_results.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(16))  # "ansible-lint" | "chiffon"
    category: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(String(128))
    message: Mapped[str] = mapped_column(Text)
    file: Mapped[str] = mapped_column(String(1024))
    line: Mapped[int | None]
    severity: Mapped[str] = mapped_column(String(16))
    reasoning: Mapped[str] = mapped_column(Text)
    file_hash: Mapped[str] = mapped_column(String(64))  # the file when the suggestion was made
    fix_by: Mapped[str | None] = mapped_column(String(16))  # "ansible-lint" | "chiffon" | None
    fix_text: Mapped[str | None] = mapped_column(Text)  # the whole fixed file
    fix_diff: Mapped[str | None] = mapped_column(Text)
    fix_error: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # SuggestionStatus
    decided_by: Mapped[str | None] = mapped_column(String(255))
    decided_at: Mapped[dt.datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)  # why it was dismissed
    commit_sha: Mapped[str | None] = mapped_column(String(40))
    run_id: Mapped[int | None]  # the run named in the fix's commit message


class Diagnosis(Base):
    __tablename__ = "analyzer_diagnoses"

    run_id: Mapped[int] = mapped_column(primary_key=True)
    failure_class: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)  # DiagnosisView.to_json()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
