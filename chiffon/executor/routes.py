"""Run pages (form, list, run with its live log), the SSE stream, and the runs JSON API."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, cast

from litestar import MediaType, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, URLEncodedBody
from litestar.params import QueryParameter as Query
from litestar.plugins.htmx import HTMXRequest
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Response, ServerSentEvent, Template
from litestar.status_codes import (
    HTTP_201_CREATED,
    HTTP_303_SEE_OTHER,
    HTTP_400_BAD_REQUEST,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
)

from chiffon.catalog import CatalogService
from chiffon.executor import ExecutorService, RunRequest, RunRequestError, RunView
from chiffon.executor._run_page import LOG_PAGE, RunLogs
from chiffon.lib.extravars import ExtraVarsError, parse_form_vars
from chiffon.router import Needs, NeedsError
from chiffon.web.identity import person
from chiffon.web.live import LiveRuns
from chiffon.web.sse import run_event_stream

__all__ = ["ROUTES"]

RUNS_PAGE = 50
RUN_LOGS = RunLogs()


async def _run_or_404(executor: ExecutorService, run_id: int) -> RunView:
    run = await executor.get_run(run_id)
    if run is None:
        raise NotFoundException(f"There is no run {run_id}.")
    return run


# -- pages --------------------------------------------------------------------------------


@dataclass
class RunForm:
    """The run form as posted (every field optional so a bad one re-renders the form)."""

    entry: str = ""
    inventory: str = ""
    limit: str = ""
    tags: str = ""
    extra_vars: str = ""
    check: str = ""


async def _form_page(
    catalog: CatalogService, form: dict[str, Any], error: str | None = None, status: int = 200
) -> Template:
    entries = await catalog.list_entries()
    inventories = await catalog.inventories()
    return Template(
        "executor/new.html",
        context={"entries": entries, "inventories": inventories, "form": form, "error": error},
        status_code=status,
    )


@get("/runs", media_type=MediaType.HTML, include_in_schema=False)
async def runs_page(
    executor: NamedDependency[ExecutorService],
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Template:
    runs = await executor.list_runs(limit=RUNS_PAGE + 1, offset=(page - 1) * RUNS_PAGE)
    return Template(
        "executor/runs.html",
        context={"runs": runs[:RUNS_PAGE], "page": page, "more": len(runs) > RUNS_PAGE},
    )


@get("/runs/new", media_type=MediaType.HTML, include_in_schema=False)
async def new_run_page(
    catalog: NamedDependency[CatalogService], entry: FromQuery[str] = ""
) -> Template:
    return await _form_page(catalog, asdict(RunForm(entry=entry)))


@post("/runs", media_type=MediaType.HTML, include_in_schema=False)
async def start_run_form(
    request: Request[Any, Any, Any],
    catalog: NamedDependency[CatalogService],
    executor: NamedDependency[ExecutorService],
    data: URLEncodedBody[RunForm],
) -> Template | Redirect:
    """Start a run and go to its page; bad input shows the form again, as it was filled."""
    try:
        run_request = RunRequest(
            entry=data.entry.strip(),
            inventory=data.inventory.strip() or None,
            limit=data.limit.strip() or None,
            tags=data.tags.strip() or None,
            extra_vars=parse_form_vars(data.extra_vars),
            check=bool(data.check),
            requested_by=person(request),
        )
        run = await executor.start_run(run_request)
    except ExtraVarsError as error:
        return await _form_page(catalog, asdict(data), str(error), HTTP_422_UNPROCESSABLE_ENTITY)
    except RunRequestError as error:
        return await _form_page(catalog, asdict(data), str(error), HTTP_400_BAD_REQUEST)
    return Redirect(f"/runs/{run.id}", status_code=HTTP_303_SEE_OTHER)


@get("/runs/{run_id:int}", media_type=MediaType.HTML, include_in_schema=False)
async def run_page(executor: NamedDependency[ExecutorService], run_id: FromPath[int]) -> Template:
    """A run: header, progress, recap, and its log (live while it runs)."""
    run = await _run_or_404(executor, run_id)
    log, progress = await RUN_LOGS.read(executor, run)
    return Template(
        "executor/run.html",
        context={
            "run": run,
            "log": log,
            "progress": progress,
            "after": log[-1].seq if log else 0,
            # finished runs whose whole log is on the page need no stream
            "stream": run.status.is_active or len(log) >= LOG_PAGE,
        },
    )


@post("/runs/{run_id:int}/cancel", include_in_schema=False, status_code=HTTP_303_SEE_OTHER)
async def cancel_run_form(
    request: HTMXRequest, executor: NamedDependency[ExecutorService], run_id: FromPath[int]
) -> Response[str] | Redirect:
    """Cancel; an HTMX button gets a notice in its place (the live stream shows the rest)."""
    run = await _run_or_404(executor, run_id)
    cancelled = run.status.is_active and await executor.cancel_run(run_id)
    if request.htmx:
        notice = "Cancelling…" if cancelled else "This run is not running any more."
        return Response(
            f'<span class="notice">{notice}</span>', media_type=MediaType.HTML, status_code=200
        )
    return Redirect(f"/runs/{run_id}", status_code=HTTP_303_SEE_OTHER)


@get("/runs/{run_id:int}/stream", include_in_schema=False)
async def run_stream(
    request: Request[Any, Any, Any],
    executor: NamedDependency[ExecutorService],
    live: NamedDependency[LiveRuns],
    run_id: FromPath[int],
    after: FromQuery[int] = 0,
    last_event_id: Annotated[str | None, HeaderParameter(name="Last-Event-ID")] = None,
) -> ServerSentEvent:
    """The run's log as Server-Sent Events after ``Last-Event-ID`` (or ``?after=``)."""
    run = await _run_or_404(executor, run_id)
    if last_event_id and last_event_id.strip().isdigit():
        after = int(last_event_id)
    templates = cast(JinjaTemplateEngine, request.app.template_engine)
    return ServerSentEvent(run_event_stream(run, max(after, 0), live, executor, templates))


# -- JSON API -----------------------------------------------------------------------------


@dataclass
class RunCreate:
    """A run to start: a catalog entry (name, ``kind:name`` or repo path) and its options."""

    entry: str
    inventory: str | None = None
    limit: str | None = None
    tags: str | None = None
    extra_vars: dict[str, Any] = field(default_factory=dict)
    check: bool = False
    # Capacity-aware placement: needs as in an entry's `resources:` header, and the hosts the
    # run may go to (default: the hosts named in `limit`).
    needs: dict[str, Any] | None = None
    hosts: list[str] = field(default_factory=list)


@post("/api/runs", tags=["runs"], status_code=HTTP_201_CREATED)
async def start_run_api(
    request: Request[Any, Any, Any],
    executor: NamedDependency[ExecutorService],
    data: JSONBody[RunCreate],
) -> dict[str, Any]:
    """Start a run; 201 with the run, 400 naming what is wrong (nothing is created then)."""
    try:
        needs = None if data.needs is None else Needs.from_mapping(data.needs)
    except NeedsError as error:
        raise RunRequestError(f"needs: {error}") from None
    run = await executor.start_run(
        RunRequest(
            entry=data.entry,
            inventory=data.inventory or None,
            limit=data.limit or None,
            tags=data.tags or None,
            extra_vars=data.extra_vars,
            check=data.check,
            requested_by=person(request),
            needs=needs,
            hosts=tuple(data.hosts),
        )
    )
    return run.to_json()


@get("/api/runs", tags=["runs"])
async def list_runs_api(
    executor: NamedDependency[ExecutorService],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """Runs, newest first."""
    return [run.to_json() for run in await executor.list_runs(limit, offset)]


@get("/api/runs/{run_id:int}", tags=["runs"])
async def get_run_api(
    executor: NamedDependency[ExecutorService], run_id: FromPath[int]
) -> dict[str, Any]:
    """One run; 404 when there is none with this id."""
    return (await _run_or_404(executor, run_id)).to_json()


@get("/api/runs/{run_id:int}/events", tags=["runs"])
async def list_events_api(
    executor: NamedDependency[ExecutorService],
    run_id: FromPath[int],
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> list[dict[str, Any]]:
    """The run's events with ``seq > after``, in order (page with the last ``seq``)."""
    await _run_or_404(executor, run_id)
    return [event.to_json() for event in await executor.list_events(run_id, after, limit)]


@post("/api/runs/{run_id:int}/cancel", tags=["runs"], status_code=200)
async def cancel_run_api(
    executor: NamedDependency[ExecutorService], run_id: FromPath[int]
) -> dict[str, Any]:
    """Cancel a queued or running run; 409 when it is finished or runs in another process."""
    run = await _run_or_404(executor, run_id)
    # A finished run stays in the executor's active table for a moment: ask the database.
    if run.status.is_finished or not await executor.cancel_run(run_id):
        state = f"already {run.status}" if run.status.is_finished else "not running here"
        raise HTTPException(
            status_code=HTTP_409_CONFLICT, detail=f"Run {run_id} cannot be cancelled: {state}."
        )
    return {"cancelled": True, "run": (await _run_or_404(executor, run_id)).to_json()}


ROUTES = [
    runs_page,
    new_run_page,
    start_run_form,
    run_page,
    cancel_run_form,
    run_stream,
    start_run_api,
    list_runs_api,
    get_run_api,
    list_events_api,
    cancel_run_api,
]
