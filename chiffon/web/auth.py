"""Who is asking, and may they: the middleware every route passes through.

A request is signed in by an ``Authorization: Bearer`` API token (scripts) or by the session
cookie (browsers). The role a route needs is its ``opt["role"]``, else viewer for reading
(GET, HEAD) and operator for anything that changes something; ``opt["public"]`` routes (sign
in, set-up, health, agents' heartbeats) need no account. Every change sent with cookies must
carry the CSRF token (the ``X-CSRF-Token`` header, which the pages send on every HTMX
request, or the ``_csrf`` field of a plain form): a double-submit of the HttpOnly
``chiffon_csrf`` cookie, which a page of another site can neither read nor set.
"""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from chiffon.web.accounts import AccountService, Identity, Role

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "AuthMiddleware",
    "SignInRequired",
    "csrf_token",
    "is_secure",
    "session_cookie",
]

SESSION_COOKIE = "chiffon_session"
CSRF_COOKIE = "chiffon_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "_csrf"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_CSRF_STATE = "chiffon_csrf"


class SignInRequired(NotAuthorizedException):
    """No one is signed in; ``setup`` is true while no account exists at all."""

    def __init__(self, detail: str, setup: bool) -> None:
        super().__init__(detail=detail)
        self.setup = setup


def is_secure(request: Request[Any, Any, Any]) -> bool:
    """Whether the browser reached Chiffon over https (directly or through a proxy)."""
    forwarded = request.headers.get("x-forwarded-proto", "")
    return request.url.scheme == "https" or forwarded.split(",")[0].strip() == "https"


def session_cookie(request: Request[Any, Any, Any], value: str, max_age: int | None) -> Cookie:
    """The session cookie (HttpOnly, SameSite=Lax, Secure behind https); ``max_age=0``
    deletes it."""
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )


def csrf_token(request: Request[Any, Any, Any]) -> str:
    """The CSRF token the page must send back with a change ("" outside a request)."""
    return str(request.scope.get("state", {}).get(_CSRF_STATE, ""))


def _needed(opt: dict[str, Any], method: str) -> Role:
    if "role" in opt:
        return Role(opt["role"])
    return Role.VIEWER if method in _SAFE else Role.OPERATOR


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


class AuthMiddleware:
    def __init__(self, app: ASGIApp, accounts: AccountService) -> None:
        self.app = app
        self.accounts = accounts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope, receive)
        opt = scope["route_handler"].opt
        public = bool(opt.get("public"))
        token = request.cookies.get(CSRF_COOKIE, "")
        fresh = None if len(token) >= 32 else secrets.token_urlsafe(32)
        scope.setdefault("state", {})[_CSRF_STATE] = fresh or token
        bearer = _bearer(request.headers.get("authorization"))
        identity = await self._identify(request, bearer, public)
        scope["user"] = identity
        if not public:
            await self._check_role(identity, _needed(opt, request.method))
        if request.method not in _SAFE and bearer is None:
            await _check_csrf(request, token)
        await self.app(scope, receive, _with_cookie(send, request, fresh) if fresh else send)

    async def _identify(
        self, request: Request[Any, Any, Any], bearer: str | None, public: bool
    ) -> Identity | None:
        if bearer is not None:
            if public:  # an agent's token, checked by the heartbeat route itself
                return None
            identity = await self.accounts.identify_token(bearer)
            if identity is None:
                raise NotAuthorizedException(
                    detail="this API token is unknown or revoked: create one with "
                    "`chiffon token create --user NAME` or on your account page"
                )
            return identity
        session = request.cookies.get(SESSION_COOKIE)
        return await self.accounts.identify_session(session) if session else None

    async def _check_role(self, identity: Identity | None, needed: Role) -> None:
        if identity is None:
            if not await self.accounts.has_users():
                raise SignInRequired(
                    "Chiffon has no accounts yet: create the first admin at /setup "
                    "or with `chiffon user add NAME --role admin`",
                    setup=True,
                )
            raise SignInRequired(
                "sign in first: open /login, or send `Authorization: Bearer TOKEN`",
                setup=False,
            )
        if not identity.may(needed):
            raise PermissionDeniedException(
                detail=f"this needs the {needed} role or above, and {identity.name} is "
                f"a {identity.role}: ask an admin for another role"
            )


async def _check_csrf(request: Request[Any, Any, Any], expected: str) -> None:
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(_FORMS):
        # Litestar keeps the parsed form in the request's scope, so the handler reads it again.
        sent = str((await request.form()).get(CSRF_FIELD, ""))
    if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        raise PermissionDeniedException(
            detail="the form's security token is missing or out of date: reload the page "
            "and try again (scripts: use an API token instead of a browser cookie)"
        )


def _with_cookie(send: Send, request: Request[Any, Any, Any], token: str) -> Send:
    cookie = Cookie(
        key=CSRF_COOKIE,
        value=token,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableScopeHeaders.from_message(message)
            headers.add("set-cookie", cookie.to_header(header=""))
        await send(message)

    return wrapped
