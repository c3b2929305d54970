"""Audit pages (the searchable list, a run's and a plan's record) and the audit JSON API."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import MediaType, get
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from litestar.params import QueryParameter as Query
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from chiffon.audit import STATUSES, AuditDetail, AuditFilterError, AuditService, parse_filter

__all__ = ["ROUTES"]

RESULTS = "audit/_results.html"

# The list's query parameters; `from` is a Python keyword, so each gets a query name.
From = Annotated[str, Query(name="from", max_length=64)]
To = Annotated[str, Query(name="to", max_length=64)]
Text = Annotated[str, Query(max_length=1000)]
Page = Annotated[int, Query(ge=1, le=10_000)]


async def _detail(audit: AuditService, kind: str, subject_id: int) -> AuditDetail:
    if kind == "run":
        found = await audit.run_detail(subject_id)
    else:
        found = await audit.plan_detail(subject_id)
    if found is None:
        raise NotFoundException(f"There is no {kind} {subject_id}.")
    return found


def _pretty(value: Any) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False, default=str)


# -- pages --------------------------------------------------------------------------------


@get("/audit", media_type=MediaType.HTML, include_in_schema=False)
async def audit_page(
    request: HTMXRequest,
    audit: NamedDependency[AuditService],
    since: From = "",
    until: To = "",
    service: Text = "",
    status: Text = "",
    person: Text = "",
    kind: Text = "",
    page: Page = 1,
) -> Template:
    """The audit list with its filter form; an HTMX request gets the results alone."""
    form = {
        "from": since,
        "to": until,
        "service": service,
        "status": status,
        "person": person,
        "kind": kind,
    }
    context: dict[str, Any] = {"form": form, "statuses": STATUSES, "page": page}
    code = 200
    try:
        wanted = parse_filter(since, until, service, status, person, kind, page)
    except AuditFilterError as error:
        context.update(entries=[], more=False, error=str(error))
        # HTMX swaps only 2xx answers: the form's results show the message in place.
        code = 200 if request.htmx else HTTP_422_UNPROCESSABLE_ENTITY
    else:
        entries, more = await audit.search(wanted)
        context.update(entries=entries, more=more, error=None)
    context["query"] = urlencode({k: v for k, v in form.items() if v})
    name = RESULTS if request.htmx else "audit/index.html"
    return Template(name, context=context, status_code=code)


async def _record_page(audit: AuditService, kind: str, subject_id: int) -> Template:
    detail = await _detail(audit, kind, subject_id)
    return Template(
        "audit/record.html",
        context={
            "detail": detail,
            "kind": kind,
            "db_json": _pretty(detail.db),
            "record_json": _pretty(detail.record),
        },
    )


@get("/audit/runs/{run_id:int}", media_type=MediaType.HTML, include_in_schema=False)
async def run_audit_page(audit: NamedDependency[AuditService], run_id: FromPath[int]) -> Template:
    """A run's database row, its audit commit (verified or not) and the committed JSON."""
    return await _record_page(audit, "run", run_id)


@get("/audit/plans/{plan_id:int}", media_type=MediaType.HTML, include_in_schema=False)
async def plan_audit_page(audit: NamedDependency[AuditService], plan_id: FromPath[int]) -> Template:
    """A plan's database row, its audit commit (verified or not) and the committed JSON."""
    return await _record_page(audit, "plan", plan_id)


# -- JSON API -----------------------------------------------------------------------------


@get("/api/audit", tags=["audit"])
async def audit_list_api(
    audit: NamedDependency[AuditService],
    since: From = "",
    until: To = "",
    service: Text = "",
    status: Text = "",
    person: Text = "",
    kind: Text = "",
    page: Page = 1,
) -> dict[str, Any]:
    """Committed runs and plans, newest first, 50 a page: ``from``/``to`` (dates, ``to``
    included), ``service`` (entry or service name, part of it), ``status``, ``person``
    (who asked or decided), ``kind`` (run or plan). 422 names a bad filter."""
    try:
        wanted = parse_filter(since, until, service, status, person, kind, page)
    except AuditFilterError as error:
        raise HTTPException(status_code=HTTP_422_UNPROCESSABLE_ENTITY, detail=str(error)) from None
    entries, more = await audit.search(wanted)
    return {"items": [entry.to_json() for entry in entries], "page": page, "more": more}


@get("/api/audit/runs/{run_id:int}", tags=["audit"])
async def run_audit_api(
    audit: NamedDependency[AuditService], run_id: FromPath[int]
) -> dict[str, Any]:
    """The run's row (``db``), its audit ``commit``, the committed JSON (``record``), whether
    they agree (``verified``) and what does not (``problems``); 404 for an unknown run."""
    return (await _detail(audit, "run", run_id)).to_json()


@get("/api/audit/plans/{plan_id:int}", tags=["audit"])
async def plan_audit_api(
    audit: NamedDependency[AuditService], plan_id: FromPath[int]
) -> dict[str, Any]:
    """The plan's row with its changes (``db``), its audit ``commit``, the committed JSON
    (``record``), ``verified`` and ``problems``; 404 for an unknown plan."""
    return (await _detail(audit, "plan", plan_id)).to_json()


@get("/api/audit/verify", tags=["audit"])
async def verify_api(audit: NamedDependency[AuditService]) -> dict[str, Any]:
    """Whether every finished run and decided plan has an audit commit matching the database
    (``ok``), how many were checked, and one line per problem found."""
    report = await audit.verify()
    return {"ok": report.ok, "checked": report.checked, "problems": list(report.problems)}


ROUTES = [
    audit_page,
    run_audit_page,
    plan_audit_page,
    audit_list_api,
    run_audit_api,
    plan_audit_api,
    verify_api,
]
