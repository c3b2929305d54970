"""Migration 0008 on SQLite and PostgreSQL: runs committed before it get their search index."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from chiffon.audit import AuditFilter, AuditService
from chiffon.bus import EventBus
from chiffon.db import make_engine, make_session_factory
from tests.integration.test_audit_service import Runs
from tests.integration.test_migrations import alembic, sync_engine

RUN = (
    "INSERT INTO runs (id, correlation_id, entry_kind, entry_name, entry_path, entry_role,"
    " entry_hash, inventory, extra_vars, check_mode, status, rc, host_stats, error,"
    " requested_by, owner, event_count, created_at, finished_at) VALUES"
    " (7, 'c7', 'tag', 'Docker', 'site.yml', 'docker', 'h', 'inv', '{}', false, 'failed', 2,"
    " '{}', 'boom', 'ada', '', 3, '2025-03-01 12:00:00+00:00', '2025-03-01 12:00:05+00:00')"
)
RECORD = (
    "INSERT INTO audit_records (subject, subject_id, path, correlation_id, commit_sha,"
    " claimed_at, committed_at) VALUES ('run', 7, '.audit/runs/7.json', 'c7', :sha,"
    " '2025-03-01 12:00:06+00:00', '2025-03-01 12:00:06+00:00')"
)


async def test_it_indexes_runs_committed_before_it(db_url: str, tmp_path: Path) -> None:
    alembic(db_url, "downgrade", "0002")
    engine = sync_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(RUN))
            connection.execute(text(RECORD), {"sha": "a" * 40})
    finally:
        engine.dispose()

    alembic(db_url, "upgrade", "head")

    engine = make_engine(db_url)
    try:
        runs = Runs()
        audit = AuditService(make_session_factory(engine), tmp_path / "audit", EventBus(), runs)
        entries, _ = await audit.search(AuditFilter(service="dock", person="ADA"))
    finally:
        await engine.dispose()

    found = [(e.subject_id, e.title, e.status, e.error, e.services, e.commit_sha) for e in entries]
    assert found == [(7, "Docker", "failed", "boom", ["docker"], "a" * 40)]
