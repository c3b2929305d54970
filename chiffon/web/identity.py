"""Who is asking: the name recorded on plans, decisions and runs made through the web."""

from __future__ import annotations

from typing import Any

from litestar import Request

from chiffon.web.accounts import Identity

__all__ = ["identity", "person"]


def identity(request: Request[Any, Any, Any]) -> Identity | None:
    """The signed-in person (``AuthMiddleware`` put them in the scope), if any."""
    found = request.scope.get("user")
    return found if isinstance(found, Identity) else None


def person(request: Request[Any, Any, Any]) -> str:
    """The signed-in person's account name ("anonymous" on a route that needs no account)."""
    found = identity(request)
    return found.name if found else "anonymous"
