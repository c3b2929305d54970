"""The chat page (a request in, a plan card back), ``POST /api/requests``, and saving a
step's generated draft into the playbook repo (from the plan card, or the API)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import MediaType, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, JSONBody, URLEncodedBody
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_201_CREATED,
    HTTP_303_SEE_OTHER,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
)

from chiffon.catalog import PathOutsideRepo
from chiffon.planner._records import PlanRecord
from chiffon.planner.service import (
    DraftError,
    DraftNameError,
    DraftNotFound,
    Planner,
    RequestError,
)
from chiffon.web.identity import person

__all__ = ["ROUTES"]

CONVERSATION = 20  # plans shown on the chat page


@get("/chat", media_type=MediaType.HTML, include_in_schema=False)
async def chat_page(request: Request[Any, Any, Any], planner: NamedDependency[Planner]) -> Template:
    """The person's conversation: their recent requests and the plans they got, oldest first."""
    assert planner.plans is not None
    plans = await planner.plans.recent(CONVERSATION, requester=person(request))
    return Template("planner/chat.html", context={"plans": list(reversed(plans)), "text": ""})


@dataclass
class RequestForm:
    text: str = ""


@post("/chat", media_type=MediaType.HTML, include_in_schema=False)
async def chat_submit(
    request: HTMXRequest, planner: NamedDependency[Planner], data: URLEncodedBody[RequestForm]
) -> Template | Redirect:
    """Plan the request; HTMX gets the exchange to append, a plain form the page again."""
    try:
        plan = await planner.submit(data.text, person(request))
    except RequestError as refused:
        if request.htmx:
            return Template(
                "planner/_refused.html",
                context={"text": data.text, "error": str(refused)},
                status_code=422,
            )
        assert planner.plans is not None
        plans = await planner.plans.recent(CONVERSATION, requester=person(request))
        return Template(
            "planner/chat.html",
            context={"plans": list(reversed(plans)), "text": data.text, "error": str(refused)},
            status_code=422,
        )
    if request.htmx:
        return Template("planner/_exchange.html", context={"plan": plan})
    return Redirect("/chat", status_code=HTTP_303_SEE_OTHER)


@dataclass
class NewRequest:
    """A request in plain words, e.g. "deploy uptime kuma and add our portals to its config"."""

    text: str


@post("/api/requests", tags=["plans"], status_code=HTTP_201_CREATED)
async def create_request_api(
    request: Request[Any, Any, Any], planner: NamedDependency[Planner], data: JSONBody[NewRequest]
) -> dict[str, Any]:
    """Plan the request and store the plan (``pending_approval``); 422 for an empty or huge
    request. A step that nothing matches is ``no_match``, never a guess."""
    plan = await planner.submit(data.text, person(request))
    return plan.to_json()


# Saving a draft writes the playbook repo: for admins once accounts exist.
_ADMIN = {"role": "admin"}


@dataclass
class DraftForm:
    path: str = ""


@post(
    "/plans/{plan_id:int}/steps/{position:int}/draft",
    media_type=MediaType.HTML,
    include_in_schema=False,
    opt=_ADMIN,
)
async def save_draft_form(
    request: HTMXRequest,
    planner: NamedDependency[Planner],
    plan_id: FromPath[int],
    position: FromPath[int],
    data: URLEncodedBody[DraftForm],
) -> Template | Redirect:
    """Save the step's generated draft; HTMX gets the step's draft part back (saved, or the
    refusal with the name asked for), a plain form the plan page or the refusal's page."""
    try:
        await planner.save_step_draft(plan_id, position, person(request), data.path)
        error: str | None = None
        status = 200
    except DraftNotFound as missing:
        raise NotFoundException(str(missing)) from None
    except (DraftNameError, PathOutsideRepo) as bad_name:
        error, status = str(bad_name), HTTP_422_UNPROCESSABLE_ENTITY
    except DraftError as refused:
        error, status = str(refused), HTTP_409_CONFLICT
    if error is None and not request.htmx:
        return Redirect(f"/plans/{plan_id}", status_code=HTTP_303_SEE_OTHER)
    plan = await _plan(planner, plan_id)
    step = next(s for s in plan.steps if s.position == position)
    context = {"p": plan, "s": step, "draft_error": error, "draft_path": data.path}
    name = "planner/_draft.html" if request.htmx else "planner/draft.html"
    return Template(name, context=context, status_code=status)


async def _plan(planner: Planner, plan_id: int) -> PlanRecord:
    assert planner.plans is not None
    plan = await planner.plans.get(plan_id)
    if plan is None:
        raise NotFoundException(f"there is no plan #{plan_id}")
    return plan


@dataclass
class SaveDraft:
    """Optional ``path``: where in the playbook repo (e.g. ``htop.yml``); by default where
    it was proposed."""

    path: str = ""


@post(
    "/api/plans/{plan_id:int}/steps/{position:int}/draft",
    tags=["plans"],
    status_code=HTTP_201_CREATED,
    opt=_ADMIN,
)
async def save_draft_api(
    request: Request[Any, Any, Any],
    planner: NamedDependency[Planner],
    plan_id: FromPath[int],
    position: FromPath[int],
    data: JSONBody[SaveDraft | None] = None,
) -> dict[str, Any]:
    """Save a no_match step's generated draft into the playbook repo (a git commit when it is
    one) and rescan the catalog. It still cannot run until reviewed. 404: no such step or no
    draft; 409: saved already or a file is there; 422: a path outside the repo or one the
    catalog would not read."""
    try:
        saved = await planner.save_step_draft(
            plan_id, position, person(request), data.path if data else ""
        )
    except DraftNotFound as missing:
        raise NotFoundException(str(missing)) from None
    except (DraftNameError, PathOutsideRepo) as bad_name:
        raise HTTPException(str(bad_name), status_code=HTTP_422_UNPROCESSABLE_ENTITY) from None
    except DraftError as refused:
        raise HTTPException(str(refused), status_code=HTTP_409_CONFLICT) from None
    return {
        "path": saved.path,
        "commit": saved.commit,
        "saved_by": saved.saved_by,
        "saved_at": saved.saved_at.isoformat(),
        "reviewed": False,
    }


ROUTES = [chat_page, chat_submit, create_request_api, save_draft_form, save_draft_api]
