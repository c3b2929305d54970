"""The chat page (a request in, a plan card back) and ``POST /api/requests``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import MediaType, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, URLEncodedBody
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED, HTTP_303_SEE_OTHER

from chiffon.planner.service import Planner, RequestError
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


ROUTES = [chat_page, chat_submit, create_request_api]
