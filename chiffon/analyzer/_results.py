"""Analyses stored by content hash: reading one back, storing one."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from chiffon.catalog import Entry
from chiffon.db import SessionFactory

from ._types import Analysis
from ._views import suggestion_view
from .models import LintResult, Suggestion

log = logging.getLogger("chiffon.analyzer")


async def cached_analysis(sessions: SessionFactory, entry: Entry, key: str) -> Analysis | None:
    """The stored analysis of ``entry`` at content ``key``, or None."""
    async with sessions() as session:
        result = await session.scalar(
            select(LintResult).where(
                LintResult.entry_kind == str(entry.kind),
                LintResult.entry_path == entry.path,
                LintResult.entry_name == entry.name,
                LintResult.content_hash == key,
            )
        )
        if result is None:
            return None
        rows = await session.scalars(
            select(Suggestion).where(Suggestion.result_id == result.id).order_by(Suggestion.id)
        )
        return Analysis(
            entry=entry.ref,
            entry_path=entry.path,
            content_hash=key,
            lint_error=result.lint_error,
            seconds=result.seconds,
            cached=True,
            suggestions=[suggestion_view(row, entry.ref) for row in rows],
        )


async def store_analysis(
    sessions: SessionFactory,
    entry: Entry,
    key: str,
    values: list[dict[str, Any]],
    lint_error: str | None,
    seconds: float,
    replace: bool,
) -> None:
    """Store an analysis and its suggestions' ``values``; ``replace`` drops an earlier one of
    the same content. Another process storing the same one first is not an error."""
    match = (
        LintResult.entry_kind == str(entry.kind),
        LintResult.entry_path == entry.path,
        LintResult.entry_name == entry.name,
        LintResult.content_hash == key,
    )
    try:
        async with sessions() as session, session.begin():
            if replace:  # a re-check: the earlier suggestions for this content go
                await session.execute(delete(LintResult).where(*match))
            result = LintResult(
                entry_kind=str(entry.kind),
                entry_name=entry.name,
                entry_path=entry.path,
                content_hash=key,
                lint_error=lint_error,
                seconds=seconds,
            )
            session.add(result)
            await session.flush()
            session.add_all(Suggestion(result_id=result.id, **item) for item in values)
    except IntegrityError:  # another process stored the same analysis at the same moment
        log.info("analysis of %s stored by another process", entry.ref)
