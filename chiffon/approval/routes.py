"""Plan pages (card, decisions, live stream) and the plans JSON API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

from litestar import MediaType, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, URLEncodedBody
from litestar.plugins.htmx import HTMXRequest
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, ServerSentEvent, Template
from litestar.response.sse import ServerSentEventMessage
from litestar.status_codes import HTTP_303_SEE_OTHER

from chiffon.approval._errors import ApprovalError, InvalidChange
from chiffon.approval._page import plan_page
from chiffon.approval._watch import PlanWatch
from chiffon.approval.service import ApprovalService, Modification
from chiffon.catalog import CatalogService
from chiffon.executor import ExecutorService
from chiffon.lib.extravars import ExtraVarsError, parse_form_vars
from chiffon.web.identity import person
from chiffon.web.templating import render

__all__ = ["ROUTES"]

CARD = "approval/_card.html"
KEEP_ALIVE_S = 15.0


async def _card(
    request: HTMXRequest,
    approval: ApprovalService,
    executor: ExecutorService,
    catalog: CatalogService,
    plan_id: int,
    error: str | None = None,
    status: int = 200,
) -> Template:
    page = await plan_page(approval, executor, catalog, plan_id, error)
    name = CARD if request.htmx else "approval/plan.html"
    return Template(name, context=page.context(), status_code=status)


# -- pages --------------------------------------------------------------------------------


@get("/plans", media_type=MediaType.HTML, include_in_schema=False)
async def plans_page(approval: NamedDependency[ApprovalService]) -> Template:
    return Template("approval/plans.html", context={"plans": await approval.recent(100)})


@get("/plans/{plan_id:int}", media_type=MediaType.HTML, include_in_schema=False)
async def plan_page_route(
    request: HTMXRequest,
    approval: NamedDependency[ApprovalService],
    executor: NamedDependency[ExecutorService],
    catalog: NamedDependency[CatalogService],
    plan_id: FromPath[int],
) -> Template:
    """A plan: its steps live, decisions, preview, modifications, and the summary at the end."""
    return await _card(request, approval, executor, catalog, plan_id)


@dataclass
class DecisionForm:
    version: str = ""
    reason: str = ""


def _version(text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


async def _decide(
    request: HTMXRequest,
    approval: ApprovalService,
    executor: ExecutorService,
    catalog: CatalogService,
    plan_id: int,
    action: str,
    form: DecisionForm,
    position: int | None = None,
) -> Template | Redirect:
    """Do ``action``; an HTMX form gets the card back (with the refusal on it), a plain
    form is redirected to the plan page, or shown it with the refusal."""
    who = person(request)
    version = _version(form.version)
    try:
        if action == "approve":
            await approval.approve(plan_id, who, version)
        elif action == "reject":
            await approval.reject(plan_id, who, form.reason, version)
        elif action == "preview":
            await approval.preview(plan_id, who)
        elif action == "cancel":
            await approval.cancel(plan_id, who)
        elif action == "revalidate":
            await approval.revalidate(plan_id, who, version)
        elif action == "retry" and position is not None:
            await approval.retry_step(plan_id, position, who)
    except ApprovalError as refused:
        if refused.status_code == 404:
            raise
        return await _card(
            request, approval, executor, catalog, plan_id, str(refused), refused.status_code
        )
    if request.htmx:
        return await _card(request, approval, executor, catalog, plan_id)
    return Redirect(f"/plans/{plan_id}", status_code=HTTP_303_SEE_OTHER)


def _decision_route(action: str) -> Any:
    @post(
        f"/plans/{{plan_id:int}}/{action}",
        media_type=MediaType.HTML,
        include_in_schema=False,
        name=f"plan-{action}",
    )
    async def handler(
        request: HTMXRequest,
        approval: NamedDependency[ApprovalService],
        executor: NamedDependency[ExecutorService],
        catalog: NamedDependency[CatalogService],
        plan_id: FromPath[int],
        data: URLEncodedBody[DecisionForm],
    ) -> Template | Redirect:
        return await _decide(request, approval, executor, catalog, plan_id, action, data)

    return handler


@post(
    "/plans/{plan_id:int}/steps/{position:int}/retry",
    media_type=MediaType.HTML,
    include_in_schema=False,
)
async def retry_step_form(
    request: HTMXRequest,
    approval: NamedDependency[ApprovalService],
    executor: NamedDependency[ExecutorService],
    catalog: NamedDependency[CatalogService],
    plan_id: FromPath[int],
    position: FromPath[int],
) -> Template | Redirect:
    return await _decide(
        request, approval, executor, catalog, plan_id, "retry", DecisionForm(), position
    )


@post("/plans/{plan_id:int}/modify", media_type=MediaType.HTML, include_in_schema=False)
async def modify_form(
    request: HTMXRequest,
    approval: NamedDependency[ApprovalService],
    executor: NamedDependency[ExecutorService],
    catalog: NamedDependency[CatalogService],
    plan_id: FromPath[int],
) -> Template | Redirect:
    """The card's edit form: per step ``keep_N``, ``order_N``, ``target_N``, ``vars_N``
    (``name=value`` lines or YAML), and for a placed step ``placement_N`` (a candidate host;
    empty: the router's pick) or ``placement_limit_N`` (a limit, which wins when given); bad
    input shows the card again with the reason."""
    form = await request.form()
    try:
        fields = {key: str(value) for key, value in form.items()}
        plan = await approval.get(plan_id)
        change = _form_change(fields, len(plan.steps))
        await approval.modify(plan_id, person(request), change, _version(fields.get("version", "")))
    except (ApprovalError, ExtraVarsError) as refused:
        status = refused.status_code if isinstance(refused, ApprovalError) else 422
        if status == 404:
            raise
        return await _card(request, approval, executor, catalog, plan_id, str(refused), status)
    if request.htmx:
        return await _card(request, approval, executor, catalog, plan_id)
    return Redirect(f"/plans/{plan_id}", status_code=HTTP_303_SEE_OTHER)


def _form_change(fields: dict[str, str], steps: int) -> Modification:
    """The edit form's fields as a ``Modification``: a step is kept when ``keep_N`` is on,
    ordered by ``order_N`` (a number; ties keep the plan's order)."""
    kept: list[tuple[float, int]] = []
    variables: dict[int, dict[str, Any]] = {}
    targets: dict[int, str | None] = {}
    placements: dict[int, str | None] = {}
    for position in range(steps):
        if f"keep_{position}" not in fields:
            continue
        raw_order = fields.get(f"order_{position}", "").strip() or str(position + 1)
        try:
            kept.append((float(raw_order), position))
        except ValueError:
            raise InvalidChange(
                f"step {position + 1}: the order must be a number, not {raw_order!r}"
            ) from None
        if f"vars_{position}" in fields:
            try:
                variables[position] = parse_form_vars(fields[f"vars_{position}"])
            except ExtraVarsError as bad:
                raise InvalidChange(f"step {position + 1}: {bad}") from None
        if f"target_{position}" in fields:
            targets[position] = fields[f"target_{position}"]
        limit = fields.get(f"placement_limit_{position}", "").strip()
        if limit or f"placement_{position}" in fields:
            placements[position] = limit or fields.get(f"placement_{position}", "")
    return Modification(
        order=[p for _, p in sorted(kept)], vars=variables, targets=targets, placements=placements
    )


@get("/plans/{plan_id:int}/stream", include_in_schema=False)
async def plan_stream(
    request: Request[Any, Any, Any],
    approval: NamedDependency[ApprovalService],
    executor: NamedDependency[ExecutorService],
    catalog: NamedDependency[CatalogService],
    watch: NamedDependency[PlanWatch],
    plan_id: FromPath[int],
) -> ServerSentEvent:
    """``event: card`` with the card's HTML whenever the plan changes; ``event: end`` once it
    is finished (the page then stops listening)."""
    await approval.get(plan_id)
    templates = cast(JinjaTemplateEngine, request.app.template_engine)

    async def stream() -> AsyncIterator[ServerSentEventMessage]:
        waiter = watch.watch(plan_id)
        try:
            yield ServerSentEventMessage(comment="chiffon plan", data=None, retry=2000)
            while True:
                page = await plan_page(approval, executor, catalog, plan_id)
                html = render(templates, CARD, **page.context())
                yield ServerSentEventMessage(event="card", data=html.replace("\n", " "))
                if page.plan.status.is_finished and not _preview_running(page.plan.preview):
                    yield ServerSentEventMessage(event="end", data=str(page.plan.status))
                    return
                waiter.clear()
                try:
                    await asyncio.wait_for(waiter.wait(), KEEP_ALIVE_S)
                except TimeoutError:
                    yield ServerSentEventMessage(comment="keep-alive", data=None)
                    continue
                await asyncio.sleep(0.1)  # several changes in a burst: one redraw
        finally:
            watch.forget(plan_id, waiter)

    return ServerSentEvent(stream())


def _preview_running(preview: dict[str, Any] | None) -> bool:
    return bool(preview) and (preview or {}).get("status") == "running"


# -- JSON API -----------------------------------------------------------------------------


@dataclass
class Decision:
    """Optional ``version``: the plan version you reviewed (refused if it changed since)."""

    version: int | None = None
    reason: str = ""


@dataclass
class Change:
    """``order``: the positions to keep, in the new order; ``vars``, ``targets`` and
    ``placements`` (a host of the step's target or a limit within it; null: the router's
    pick) by position (as strings, JSON's keys); ``version`` as for decisions."""

    order: list[int] | None = None
    vars: dict[str, dict[str, Any]] = field(default_factory=dict)
    targets: dict[str, str | None] = field(default_factory=dict)
    placements: dict[str, str | None] = field(default_factory=dict)
    version: int | None = None


def _positions(mapping: dict[str, Any], what: str) -> dict[int, Any]:
    try:
        return {int(key): value for key, value in mapping.items()}
    except ValueError:
        raise InvalidChange(f"{what} must be keyed by step position (0, 1, ...)") from None


async def _plan_json(approval: ApprovalService, plan_id: int) -> dict[str, Any]:
    plan = await approval.get(plan_id)
    body = plan.to_json()
    body["changes"] = [c.to_json() for c in await approval.changes(plan_id)]
    body["stale"] = await approval.stale_steps(plan) if plan.status.is_open else []
    return body


@get("/api/plans", tags=["plans"])
async def list_plans_api(approval: NamedDependency[ApprovalService]) -> list[dict[str, Any]]:
    """The newest 100 plans."""
    return [plan.to_json() for plan in await approval.recent(100)]


@get("/api/plans/{plan_id:int}", tags=["plans"])
async def get_plan_api(
    approval: NamedDependency[ApprovalService], plan_id: FromPath[int]
) -> dict[str, Any]:
    """A plan: status, steps (with their run ids), changes, and what went stale."""
    return await _plan_json(approval, plan_id)


@post("/api/plans/{plan_id:int}/approve", tags=["plans"], status_code=200)
async def approve_api(
    request: Request[Any, Any, Any],
    approval: NamedDependency[ApprovalService],
    plan_id: FromPath[int],
    data: JSONBody[Decision | None] = None,
) -> dict[str, Any]:
    """Approve and start running; 409 when it is not awaiting approval or is stale."""
    await approval.approve(plan_id, person(request), data.version if data else None)
    return await _plan_json(approval, plan_id)


@post("/api/plans/{plan_id:int}/reject", tags=["plans"], status_code=200)
async def reject_api(
    request: Request[Any, Any, Any],
    approval: NamedDependency[ApprovalService],
    plan_id: FromPath[int],
    data: JSONBody[Decision],
) -> dict[str, Any]:
    """Reject with ``{"reason"}``; 422 without a reason."""
    await approval.reject(plan_id, person(request), data.reason, data.version)
    return await _plan_json(approval, plan_id)


@post("/api/plans/{plan_id:int}/preview", tags=["plans"], status_code=202)
async def preview_api(
    request: Request[Any, Any, Any],
    approval: NamedDependency[ApprovalService],
    plan_id: FromPath[int],
) -> dict[str, Any]:
    """Start a check-mode run of every step; poll the plan for ``preview.status == "done"``."""
    await approval.preview(plan_id, person(request))
    return await _plan_json(approval, plan_id)


@post("/api/plans/{plan_id:int}/modify", tags=["plans"], status_code=200)
async def modify_api(
    request: Request[Any, Any, Any],
    approval: NamedDependency[ApprovalService],
    plan_id: FromPath[int],
    data: JSONBody[Change],
) -> dict[str, Any]:
    """Edit variables, remove or reorder steps, change targets or placements; 422 naming a
    bad value (e.g. a placement on a host outside the step's target)."""
    change = Modification(
        order=data.order,
        vars=_positions(data.vars, "vars"),
        targets=_positions(data.targets, "targets"),
        placements=_positions(data.placements, "placements"),
    )
    await approval.modify(plan_id, person(request), change, data.version)
    return await _plan_json(approval, plan_id)


@post("/api/plans/{plan_id:int}/revalidate", tags=["plans"], status_code=200)
async def revalidate_api(
    request: Request[Any, Any, Any],
    approval: NamedDependency[ApprovalService],
    plan_id: FromPath[int],
) -> dict[str, Any]:
    """Take the catalog's current entries after the playbook repo changed."""
    await approval.revalidate(plan_id, person(request))
    return await _plan_json(approval, plan_id)


@post("/api/plans/{plan_id:int}/cancel", tags=["plans"], status_code=200)
async def cancel_api(
    request: Request[Any, Any, Any],
    approval: NamedDependency[ApprovalService],
    plan_id: FromPath[int],
) -> dict[str, Any]:
    """Cancel a running plan: the running step is cancelled, the rest skipped."""
    await approval.cancel(plan_id, person(request))
    return await _plan_json(approval, plan_id)


@post("/api/plans/{plan_id:int}/steps/{position:int}/retry", tags=["plans"], status_code=200)
async def retry_api(
    request: Request[Any, Any, Any],
    approval: NamedDependency[ApprovalService],
    plan_id: FromPath[int],
    position: FromPath[int],
) -> dict[str, Any]:
    """Run a failed plan's failed step again, then the steps it stopped."""
    await approval.retry_step(plan_id, position, person(request))
    return await _plan_json(approval, plan_id)


ROUTES = [
    plans_page,
    plan_page_route,
    *(_decision_route(a) for a in ("approve", "reject", "preview", "cancel", "revalidate")),
    retry_step_form,
    modify_form,
    plan_stream,
    list_plans_api,
    get_plan_api,
    approve_api,
    reject_api,
    preview_api,
    modify_api,
    revalidate_api,
    cancel_api,
    retry_api,
]
