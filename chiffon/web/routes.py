"""Pages that belong to no module: the dashboard, the health check, and the account pages."""

from __future__ import annotations

from collections import Counter
from typing import Any

from litestar import MediaType, get
from litestar.di import NamedDependency
from litestar.response import Template

from chiffon.catalog import CatalogService, EntryKind
from chiffon.executor import ExecutorService
from chiffon.web._account_routes import ROUTES as ACCOUNT_ROUTES

__all__ = ["ROUTES"]

RECENT_RUNS = 10


@get("/", media_type=MediaType.HTML, include_in_schema=False)
async def home(
    catalog: NamedDependency[CatalogService], executor: NamedDependency[ExecutorService]
) -> Template:
    """The dashboard: recent runs and what the catalog holds."""
    runs = await executor.list_runs(limit=RECENT_RUNS)
    entries = await catalog.list_entries()
    kinds = Counter(entry.kind for entry in entries)
    counts = {kind: kinds.get(kind, 0) for kind in EntryKind}
    invalid = sum(1 for entry in entries if not entry.valid)
    return Template(
        "home.html",
        context={"runs": runs, "counts": counts, "invalid": invalid, "total": len(entries)},
    )


@get("/healthz", sync_to_thread=False, tags=["health"], opt={"public": True})
def healthz() -> dict[str, Any]:
    """200 with ``{"status": "ok"}`` while the process serves requests (no database work)."""
    return {"status": "ok"}


ROUTES = [home, healthz, *ACCOUNT_ROUTES]
