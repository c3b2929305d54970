"""Which plan steps' drafts were saved into the playbook repo: one row per (plan, clause),
claimed before the file is written so that the same draft is never saved twice."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chiffon.db import SessionFactory
from chiffon.planner._records import SavedDraft
from chiffon.planner.models import SavedDraftRow


class SavedDrafts:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def claim(self, plan_id: int, clause: str, path: str, by: str) -> int | None:
        """The new row's id, or None when this plan's draft for ``clause`` is saved (or being
        saved) already."""
        try:
            async with self._sessions() as session, session.begin():
                result = await session.execute(
                    insert(SavedDraftRow)
                    .values(plan_id=plan_id, clause=clause, path=path, saved_by=by)
                    .returning(SavedDraftRow.id)
                )
                return int(result.scalar_one())
        except IntegrityError:
            return None

    async def finish(self, saved_id: int, commit: str | None) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(SavedDraftRow).where(SavedDraftRow.id == saved_id).values(commit=commit)
            )

    async def release(self, saved_id: int) -> None:
        """Forget a claim whose file could not be written."""
        async with self._sessions() as session, session.begin():
            await session.execute(delete(SavedDraftRow).where(SavedDraftRow.id == saved_id))

    async def get(self, plan_id: int, clause: str) -> SavedDraft | None:
        async with self._sessions() as session:
            found = await saved_drafts_of(session, [plan_id])
        return next((s for s in found.get(plan_id, ()) if s.clause == clause), None)


async def saved_drafts_of(
    session: AsyncSession, plan_ids: Sequence[int]
) -> dict[int, tuple[SavedDraft, ...]]:
    """The saved drafts of each of ``plan_ids`` (at most a page of plans), oldest first."""
    if not plan_ids:
        return {}
    rows = await session.scalars(
        select(SavedDraftRow)
        .where(SavedDraftRow.plan_id.in_(list(plan_ids)))
        .order_by(SavedDraftRow.id)
    )
    found: dict[int, list[SavedDraft]] = {}
    for row in rows:
        found.setdefault(row.plan_id, []).append(
            SavedDraft(row.clause, row.path, row.commit, row.saved_by, row.saved_at)
        )
    return {plan_id: tuple(items) for plan_id, items in found.items()}
