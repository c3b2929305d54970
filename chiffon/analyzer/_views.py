"""Rows to views, and the small checks the service makes on what a person typed."""

from __future__ import annotations

from pathlib import Path

from ._types import Analysis, AnalyzerError, SuggestionStatus, SuggestionView
from .models import Suggestion


def read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def commit_author(author: str) -> str:
    author = " ".join(author.split())
    if not author:
        raise AnalyzerError("Say who accepts the fix: the commit's author, e.g. 'Ada <ada@x>'.")
    if len(author) > 255 or any(ch in author for ch in "\n\r\x00"):
        raise AnalyzerError("The author is too long or has control characters.")
    return author if "<" in author else f"{author} <>"


def suggestion_view(row: Suggestion, entry_ref: str) -> SuggestionView:
    return SuggestionView(
        id=row.id,
        entry=entry_ref,
        source=row.source,
        category=row.category,
        rule=row.rule,
        message=row.message,
        file=row.file,
        line=row.line,
        severity=row.severity,
        reasoning=row.reasoning,
        file_hash=row.file_hash,
        fix_by=row.fix_by,
        fix_diff=row.fix_diff,
        fix_error=row.fix_error,
        status=SuggestionStatus(row.status),
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        reason=row.reason,
        commit_sha=row.commit_sha,
        run_id=row.run_id,
    )


def with_cached(analysis: Analysis, cached: bool) -> Analysis:
    return Analysis(
        entry=analysis.entry,
        entry_path=analysis.entry_path,
        content_hash=analysis.content_hash,
        lint_error=analysis.lint_error,
        seconds=analysis.seconds,
        cached=cached,
        suggestions=analysis.suggestions,
    )
