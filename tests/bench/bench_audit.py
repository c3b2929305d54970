"""The audit trail: commits per second through the outbox, the audit list's query time on a
large index, and ``verify`` over every committed run (SQLite, a real git repo).

Runs come from the in-memory stand-in the audit tests use (real ``RunView`` values); the
search index is filled with direct inserts so the list is measured at 20,000 records.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from chiffon.audit import AuditService, RunAudited, parse_filter
from chiffon.audit.models import AuditRecord
from chiffon.bus import EventBus
from chiffon.db import make_engine, make_session_factory, upgrade_database
from chiffon.executor import RunFinished
from tests.integration.test_audit_service import Runs, make_run

from ._util import median, percentile

COMMITS = 200
INDEXED = 20_000
QUERIES = 50
TARGET_SEARCH_P95_MS = 100.0


async def _measure(tmp: Path) -> dict[str, Any]:
    url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    runs = Runs(*(make_run(i) for i in range(1, COMMITS + 1)))
    bus = EventBus()
    audit = AuditService(sessions, tmp / "audit", bus, runs)
    bus.register(
        {
            RunFinished: [audit.when_run_finished_commit],
            RunAudited: [runs.when_run_audited_store_commit],
        }
    )
    started = time.perf_counter()
    for run_id in range(1, COMMITS + 1):
        await bus.publish(RunFinished(run_id, "succeeded", 0, f"corr{run_id:04d}"))
    commit_s = time.perf_counter() - started
    t0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    async with sessions() as session, session.begin():
        await session.execute(
            insert(AuditRecord),
            [
                {
                    "subject": "plan" if i % 3 == 0 else "run",
                    "subject_id": 100_000 + i,
                    "path": f".audit/x/{i}.json",
                    "correlation_id": f"c{i}",
                    "commit_sha": f"{i:040x}",
                    "status": ("succeeded", "failed", "rejected")[i % 3],
                    "title": f"entry-{i % 97}",
                    "requested_by": f"person{i % 13}",
                    "services": f"|entry-{i % 97}|svc{i % 11}|",
                    "finished_at": t0 + dt.timedelta(minutes=i),
                }
                for i in range(INDEXED)
            ],
        )
    filters = [
        parse_filter(),
        parse_filter(status="failed", person="person3"),
        parse_filter(service="svc7", since="2025-01-05", until="2025-01-09"),
        parse_filter(page=40),
    ]
    timings: list[float] = []
    for n in range(QUERIES):
        begin = time.perf_counter()
        await audit.search(filters[n % len(filters)])
        timings.append((time.perf_counter() - begin) * 1000)
    begin = time.perf_counter()
    report = await audit.verify()
    verify_s = time.perf_counter() - begin
    await engine.dispose()
    p95 = percentile(timings, 95)
    return {
        "commits": COMMITS,
        "commits_per_s": round(COMMITS / commit_s, 1),
        "indexed_records": INDEXED + COMMITS,
        "search_ms_p50": round(median(timings), 2),
        "search_ms_p95": round(p95, 2),
        "verify_runs": report.checked,
        "verify_s": round(verify_s, 3),
        "verify_ok": report.ok,
        "target_search_ms_p95": TARGET_SEARCH_P95_MS,
        "ok": report.ok and p95 <= TARGET_SEARCH_P95_MS,
    }


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(_measure(Path(tmp)))


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
