"""Who is asking: the name recorded on plans, decisions and runs made through the web."""

from __future__ import annotations

from typing import Any

from litestar import Request

from chiffon.web.errors import is_api


def person(request: Request[Any, Any, Any]) -> str:
    """The person behind ``request``: "api" for API calls and "web" for pages until accounts
    exist (then the signed-in user's name)."""
    return "api" if is_api(request) else "web"
