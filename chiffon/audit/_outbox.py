"""The outbox rows behind every audit commit, for runs and plans alike.

Inserting a row is the atomic claim (the primary key makes a second insert fail on SQLite and
PostgreSQL alike); every later change is a compare-and-swap checked by its row count, so two
claimants (tasks, or instances on one database) never both commit the same record.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from chiffon.audit._index import IndexValues
from chiffon.audit.models import AuditRecord
from chiffon.db import SessionFactory, utcnow

__all__ = ["Outbox"]

_CHUNK = 500  # keeps an IN list under every backend's bound-parameter limit


class Outbox:
    def __init__(self, sessions: SessionFactory, subject: str) -> None:
        self._sessions = sessions
        self.subject = subject

    async def records(self, ids: list[int]) -> dict[int, AuditRecord]:
        found: dict[int, AuditRecord] = {}
        async with self._sessions() as session:
            for start in range(0, len(ids), _CHUNK):
                rows = await session.scalars(
                    select(AuditRecord).where(
                        AuditRecord.subject == self.subject,
                        AuditRecord.subject_id.in_(ids[start : start + _CHUNK]),
                    )
                )
                found.update((row.subject_id, row) for row in rows)
        return found

    async def record(self, subject_id: int) -> AuditRecord | None:
        return (await self.records([subject_id])).get(subject_id)

    async def claim(self, subject_id: int, path: str, correlation_id: str) -> bool:
        """Insert the audit row; False when another claimant inserted it first."""
        async with self._sessions() as session:
            try:
                await session.execute(
                    insert(AuditRecord).values(
                        subject=self.subject,
                        subject_id=subject_id,
                        path=path,
                        correlation_id=correlation_id,
                        claimed_at=utcnow(),
                    )
                )
                await session.commit()
            except IntegrityError:
                await session.rollback()
                return False
        return True

    async def take_over(self, record: AuditRecord) -> bool:
        """Re-claim a claim left without a commit; False when someone else took it first."""
        return await self._swap(
            record.subject_id,
            [AuditRecord.commit_sha.is_(None), AuditRecord.claimed_at == record.claimed_at],
            claimed_at=utcnow(),
        )

    async def reopen(self, record: AuditRecord) -> bool:
        """Claim a committed row again for a newer commit of the same subject (a plan decided
        again after a failed step was re-run); False when someone else reopened it first."""
        assert record.commit_sha is not None
        return await self._swap(
            record.subject_id,
            [AuditRecord.commit_sha == record.commit_sha],
            commit_sha=None,
            committed_at=None,
            claimed_at=utcnow(),
        )

    async def release(self, subject_id: int) -> None:
        async with self._sessions() as session:
            await session.execute(
                delete(AuditRecord).where(
                    AuditRecord.subject == self.subject,
                    AuditRecord.subject_id == subject_id,
                    AuditRecord.commit_sha.is_(None),
                )
            )
            await session.commit()

    async def complete(self, subject_id: int, sha: str, index: IndexValues) -> bool:
        """Store the commit (and the search index) on our claim; False when a takeover
        elsewhere recorded its commit first."""
        return await self._swap(
            subject_id,
            [AuditRecord.commit_sha.is_(None)],
            commit_sha=sha,
            committed_at=utcnow(),
            **index.columns(),
        )

    async def _swap(self, subject_id: int, conditions: list[Any], **values: Any) -> bool:
        async with self._sessions() as session:
            result = await session.execute(
                update(AuditRecord)
                .where(
                    AuditRecord.subject == self.subject,
                    AuditRecord.subject_id == subject_id,
                    *conditions,
                )
                .values(**values)
            )
            await session.commit()
        return isinstance(result, CursorResult) and result.rowcount == 1
