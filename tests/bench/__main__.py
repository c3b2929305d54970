"""`make bench`: every benchmark, one JSON object on stdout.

`python -m tests.bench executor_overhead startup` runs only the groups named.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

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

GROUPS: dict[str, Callable[[], dict[str, Any]]] = {
    "event_ingestion": bench_ingest.run,
    "executor_overhead": bench_executor.run,
    "startup": bench_startup.run,
    "planner": bench_planner.run,
    "analyzer": bench_analyzer.run,
    "router": bench_router.run,
    "llm_planning": bench_llm.run,
    "audit": bench_audit.run,
    "live_view": bench_live.run,
    "pages": bench_pages.run,
}


def main(names: list[str]) -> int:
    unknown = sorted(set(names) - GROUPS.keys())
    if unknown:
        print(f"unknown groups {unknown}; the groups are {sorted(GROUPS)}", file=sys.stderr)
        return 2
    figures = {name: run() for name, run in GROUPS.items() if not names or name in names}
    print(json.dumps(figures, indent=2))
    return 0 if all(f.get("ok") for f in figures.values()) else 1


sys.exit(main(sys.argv[1:]))
