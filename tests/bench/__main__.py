"""`make bench`: every benchmark, one JSON object on stdout."""

from __future__ import annotations

import json
import sys

from . import (
    bench_analyzer,
    bench_audit,
    bench_executor,
    bench_ingest,
    bench_live,
    bench_llm,
    bench_pages,
    bench_planner,
    bench_router,
    bench_startup,
)


def main() -> int:
    figures = {
        "event_ingestion": bench_ingest.run(),
        "executor_overhead": bench_executor.run(),
        "startup": bench_startup.run(),
        "planner": bench_planner.run(),
        "analyzer": bench_analyzer.run(),
        "router": bench_router.run(),
        "llm_planning": bench_llm.run(),
        "audit": bench_audit.run(),
        "live_view": bench_live.run(),
        "pages": bench_pages.run(),
    }
    print(json.dumps(figures, indent=2))
    return 0 if all(f.get("ok") for f in figures.values()) else 1


sys.exit(main())
