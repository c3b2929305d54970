"""Catalog pages (search, entry detail) and its JSON API."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_303_SEE_OTHER

from chiffon.catalog import CatalogService, Entry, EntryKind

__all__ = ["ROUTES"]

_EMPTY_FORM = dict.fromkeys(("inventory", "limit", "tags", "extra_vars", "check"), "")


async def _entry_or_404(catalog: CatalogService, entry_id: int) -> Entry:
    entry = await catalog.get_entry(entry_id)
    if entry is None:
        raise NotFoundException(f"There is no catalog entry {entry_id}.")
    return entry


# -- pages --------------------------------------------------------------------------------


@get("/catalog", media_type=MediaType.HTML, include_in_schema=False)
async def catalog_page(
    request: HTMXRequest,
    catalog: NamedDependency[CatalogService],
    q: FromQuery[str] = "",
    kind: FromQuery[str] = "",  # the form's "All kinds" sends an empty one
) -> Template:
    """The catalog with its search box; an HTMX search gets only the ``_entries`` partial."""
    chosen = EntryKind(kind) if kind in set(EntryKind) else None
    entries = await catalog.list_entries(q, chosen)
    context = {"entries": entries, "q": q, "kind": chosen, "kinds": list(EntryKind)}
    htmx = request.htmx
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        return Template("catalog/_entries.html", context=context)
    return Template("catalog/index.html", context=context)


@get("/catalog/{entry_id:int}", media_type=MediaType.HTML, include_in_schema=False)
async def entry_page(catalog: NamedDependency[CatalogService], entry_id: FromPath[int]) -> Template:
    """One entry: what it is, its variables, hosts, tasks, tags, and a form to run it."""
    entry = await _entry_or_404(catalog, entry_id)
    inventories = await catalog.inventories()
    return Template(
        "catalog/entry.html",
        context={
            "entry": entry,
            "inventories": inventories,
            "form": {"entry": entry.ref, **_EMPTY_FORM},
        },
    )


@post("/catalog/scan", include_in_schema=False, status_code=HTTP_303_SEE_OTHER)
async def scan_page(catalog: NamedDependency[CatalogService]) -> Redirect:
    """Rescan the playbook repo, then show the catalog."""
    await catalog.scan()
    return Redirect("/catalog", status_code=HTTP_303_SEE_OTHER)


# -- JSON API -----------------------------------------------------------------------------


@get("/api/catalog", tags=["catalog"])
async def list_entries_api(
    catalog: NamedDependency[CatalogService],
    q: FromQuery[str] = "",
    kind: FromQuery[EntryKind | None] = None,
) -> list[dict[str, Any]]:
    """Catalog entries whose name, description, tags or service contain every word of ``q``."""
    return [entry.to_json() for entry in await catalog.list_entries(q, kind)]


@get("/api/catalog/{entry_id:int}", tags=["catalog"])
async def get_entry_api(
    catalog: NamedDependency[CatalogService], entry_id: FromPath[int]
) -> dict[str, Any]:
    """One catalog entry; 404 when there is none with this id."""
    return (await _entry_or_404(catalog, entry_id)).to_json()


@post("/api/catalog/scan", tags=["catalog"], status_code=HTTP_200_OK)
async def scan_api(catalog: NamedDependency[CatalogService]) -> dict[str, Any]:
    """Rescan the playbook repo; returns the entries, inventories and what changed."""
    return (await catalog.scan()).to_json()


ROUTES = [catalog_page, entry_page, scan_page, list_entries_api, get_entry_api, scan_api]
