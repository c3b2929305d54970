"""Agents: the heartbeat endpoint, the agents JSON API, placement, and the agents pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from litestar import MediaType, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, JSONBody
from litestar.params import QueryParameter as Query
from litestar.response import Response, Template
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
)

from ._chart import HEIGHT, WIDTH, chart_lines
from ._views import AgentView
from .needs import Needs, NeedsError
from .placement import Router
from .protocol import SUPPORTED_MAJORS, ProtocolError, UnsupportedProtocol, supported_versions
from .service import AgentAuthError, AgentRegistry, HeartbeatFlood

__all__ = ["ROUTES"]

HISTORY_MINUTES = 60


def _error(status: int, message: str, **extra: Any) -> Response[Any]:
    headers = {}
    if status == HTTP_401_UNAUTHORIZED:
        headers["WWW-Authenticate"] = "Bearer"
    if "retry_after_s" in extra:
        headers["Retry-After"] = str(max(1, round(extra["retry_after_s"])))
    return Response(
        {"error": message, **extra}, status_code=status, media_type=MediaType.JSON, headers=headers
    )


def _bearer(request: Request[Any, Any, Any]) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


@post("/api/agents/heartbeat", tags=["agents"], status_code=200, opt={"public": True})
async def heartbeat(
    request: Request[Any, Any, Any], agents: NamedDependency[AgentRegistry]
) -> Response[Any]:
    """An agent's heartbeat (protocol 1.x JSON, ``Authorization: Bearer TOKEN``).

    200 with the server's time; 401 bad token; 409 unknown protocol major; 422 bad fields;
    429 too many heartbeats (``Retry-After``).
    """
    try:
        receipt = await agents.ingest(_bearer(request), await request.body())
    except AgentAuthError as error:
        return _error(HTTP_401_UNAUTHORIZED, str(error))
    except HeartbeatFlood as error:
        return _error(HTTP_429_TOO_MANY_REQUESTS, str(error), retry_after_s=error.retry_after_s)
    except UnsupportedProtocol as error:
        return _error(
            HTTP_409_CONFLICT, str(error), supported=[f"{major}.x" for major in SUPPORTED_MAJORS]
        )
    except ProtocolError as error:
        return _error(HTTP_422_UNPROCESSABLE_ENTITY, str(error))
    return Response(
        {
            "agent": receipt.name,
            "server_time": receipt.server_time.isoformat(),
            "clock_skew_s": receipt.clock_skew_s,
            "next_heartbeat_s": agents.heartbeat_interval_s,
            "protocol": supported_versions(),
        },
        media_type=MediaType.JSON,
    )


async def _agent_or_404(agents: AgentRegistry, agent_id: int) -> AgentView:
    agent = await agents.get_agent(agent_id)
    if agent is None:
        raise NotFoundException(f"There is no agent {agent_id}.")
    return agent


@get("/api/agents", tags=["agents"])
async def list_agents_api(agents: NamedDependency[AgentRegistry]) -> list[dict[str, Any]]:
    """Every agent with its status and latest resources."""
    return [agent.to_json() for agent in await agents.list_agents()]


@get("/api/agents/{agent_id:int}", tags=["agents"])
async def get_agent_api(
    agents: NamedDependency[AgentRegistry],
    agent_id: FromPath[int],
    minutes: Annotated[int, Query(ge=1, le=7 * 24 * 60)] = HISTORY_MINUTES,
) -> dict[str, Any]:
    """One agent, its latest resources and its history over the last ``minutes``."""
    agent = await _agent_or_404(agents, agent_id)
    history = await agents.history(agent_id, window_s=minutes * 60)
    return {**agent.to_json(), "history": [point.to_json() for point in history]}


@dataclass
class PlacementAsk:
    """Needs (as in an entry's ``resources:`` header) and the hosts the step may go to."""

    hosts: list[str]
    needs: dict[str, Any] = field(default_factory=dict)


@post("/api/placement", tags=["agents"], status_code=200)
async def place_api(
    router: NamedDependency[Router], data: JSONBody[PlacementAsk]
) -> dict[str, Any]:
    """Where a step with these needs would run now, and why (nothing is started)."""
    try:
        needs = Needs.from_mapping(data.needs)
    except NeedsError as error:
        raise HTTPException(str(error), status_code=HTTP_400_BAD_REQUEST) from None
    return (await router.place(needs, data.hosts)).to_json()


# -- pages --------------------------------------------------------------------------------


@get("/agents", media_type=MediaType.HTML, include_in_schema=False)
async def agents_page(agents: NamedDependency[AgentRegistry]) -> Template:
    """Every machine with live resource bars (the list refreshes itself)."""
    return Template("router/agents.html", context={"agents": await agents.list_agents()})


@get("/agents/_list", media_type=MediaType.HTML, include_in_schema=False)
async def agents_fragment(agents: NamedDependency[AgentRegistry]) -> Template:
    return Template("router/_agents.html", context={"agents": await agents.list_agents()})


async def _agent_context(agents: AgentRegistry, agent_id: int) -> dict[str, Any]:
    agent = await _agent_or_404(agents, agent_id)
    history = await agents.history(agent_id, window_s=HISTORY_MINUTES * 60)
    return {
        "agent": agent,
        "history": history,
        "lines": chart_lines(history),
        "chart": {"width": WIDTH, "height": HEIGHT, "minutes": HISTORY_MINUTES},
    }


@get("/agents/{agent_id:int}", media_type=MediaType.HTML, include_in_schema=False)
async def agent_page(agents: NamedDependency[AgentRegistry], agent_id: FromPath[int]) -> Template:
    """One machine: resources per GPU and the last hour's history chart."""
    return Template("router/agent.html", context=await _agent_context(agents, agent_id))


@get("/agents/{agent_id:int}/_detail", media_type=MediaType.HTML, include_in_schema=False)
async def agent_fragment(
    agents: NamedDependency[AgentRegistry], agent_id: FromPath[int]
) -> Template:
    return Template("router/_agent.html", context=await _agent_context(agents, agent_id))


ROUTES = [
    heartbeat,
    list_agents_api,
    get_agent_api,
    place_api,
    agents_page,
    agents_fragment,
    agent_page,
    agent_fragment,
]
