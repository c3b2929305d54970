"""Account pages and API: set-up, sign in / out, one's own account and tokens, people (admin)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from litestar import MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_201_CREATED,
    HTTP_303_SEE_OTHER,
    HTTP_422_UNPROCESSABLE_ENTITY,
)

from chiffon.web.accounts import (
    AccountConflict,
    AccountError,
    AccountService,
    Identity,
    Role,
    SignInThrottled,
)
from chiffon.web.auth import CSRF_COOKIE, SESSION_COOKIE, session_cookie
from chiffon.web.identity import identity

__all__ = ["ROUTES"]

PUBLIC = {"public": True}
ADMIN = {"role": "admin"}
SELF = {"role": "viewer"}  # changes to one's own account: every role may make them


def _me(request: Request[Any, Any, Any]) -> Identity:
    found = identity(request)
    assert found is not None, "AuthMiddleware lets no one through unsigned here"
    return found


def _address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def _local(target: str) -> str:
    """``target`` when it is a path on this site, else "/" (no open redirect)."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


async def _signed_in(
    request: Request[Any, Any, Any], accounts: AccountService, user_id: int, target: str
) -> Redirect:
    """Open a session for ``user_id`` and go to ``target`` with its cookie."""
    token = await accounts.open_session(user_id)
    response = Redirect(_local(target), status_code=HTTP_303_SEE_OTHER)
    response.set_cookie(session_cookie(request, token, max_age=accounts.session_seconds))
    # A new CSRF token with the new session (the middleware sets one on the next page).
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


# -- set-up and signing in ------------------------------------------------------------------


@dataclass
class SetupForm:
    name: str = ""
    password: str = ""
    confirm: str = ""


@get("/setup", media_type=MediaType.HTML, include_in_schema=False, opt=PUBLIC)
async def setup_page(accounts: NamedDependency[AccountService]) -> Template | Redirect:
    """The first visit's page: create the admin (once an account exists: go sign in)."""
    if await accounts.has_users():
        return Redirect("/login", status_code=HTTP_303_SEE_OTHER)
    return Template("web/setup.html", context={"form": SetupForm(), "error": None})


@post("/setup", media_type=MediaType.HTML, include_in_schema=False, opt=PUBLIC)
async def setup_submit(
    request: Request[Any, Any, Any],
    accounts: NamedDependency[AccountService],
    data: URLEncodedBody[SetupForm],
) -> Template | Redirect:
    if data.password != data.confirm:
        error = "the two passwords differ: type the same password twice"
        return _setup_again(data, error)
    try:
        user = await accounts.create_first_admin(data.name, data.password)
    except AccountConflict:
        return Redirect("/login", status_code=HTTP_303_SEE_OTHER)
    except AccountError as error:
        return _setup_again(data, str(error))
    return await _signed_in(request, accounts, user.id, "/")


def _setup_again(data: SetupForm, error: str) -> Template:
    form = SetupForm(name=data.name)
    return Template(
        "web/setup.html",
        context={"form": form, "error": error},
        status_code=HTTP_422_UNPROCESSABLE_ENTITY,
    )


@dataclass
class LoginForm:
    name: str = ""
    password: str = ""
    next: str = "/"


@get("/login", media_type=MediaType.HTML, include_in_schema=False, opt=PUBLIC)
async def login_page(
    request: Request[Any, Any, Any],
    accounts: NamedDependency[AccountService],
    next: FromQuery[str] = "/",
) -> Template | Redirect:
    if identity(request) is not None:
        return Redirect(_local(next), status_code=HTTP_303_SEE_OTHER)
    if not await accounts.has_users():
        return Redirect("/setup", status_code=HTTP_303_SEE_OTHER)
    return Template("web/login.html", context={"form": LoginForm(next=_local(next)), "error": None})


@post("/login", media_type=MediaType.HTML, include_in_schema=False, opt=PUBLIC)
async def login_submit(
    request: Request[Any, Any, Any],
    accounts: NamedDependency[AccountService],
    data: URLEncodedBody[LoginForm],
) -> Template | Redirect:
    """Sign in and go where the person was headed; a wrong password shows the form again
    (name kept), too many failures answer 429 with ``Retry-After``."""
    try:
        user = await accounts.authenticate(data.name, data.password, _address(request))
    except AccountError as error:
        form = LoginForm(name=data.name, next=_local(data.next))
        headers = {}
        if isinstance(error, SignInThrottled):
            headers["Retry-After"] = str(error.retry_after_s)
        return Template(
            "web/login.html",
            context={"form": form, "error": str(error)},
            status_code=error.status_code,
            headers=headers,
        )
    return await _signed_in(request, accounts, user.id, data.next)


@post("/logout", media_type=MediaType.HTML, include_in_schema=False, opt=PUBLIC)
async def logout(
    request: Request[Any, Any, Any], accounts: NamedDependency[AccountService]
) -> Redirect:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await accounts.close_session(token)
    response = Redirect("/login", status_code=HTTP_303_SEE_OTHER)
    response.set_cookie(session_cookie(request, "", max_age=0))
    return response


# -- one's own account ----------------------------------------------------------------------


async def _account_page(
    request: Request[Any, Any, Any],
    accounts: AccountService,
    new_token: str | None = None,
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Template:
    me = _me(request)
    return Template(
        "web/account.html",
        context={
            "me": me,
            "tokens": await accounts.tokens(me.name),
            "new_token": new_token,
            "error": error,
            "notice": notice,
        },
        status_code=status,
    )


@get("/account", media_type=MediaType.HTML, include_in_schema=False)
async def account_page(
    request: Request[Any, Any, Any], accounts: NamedDependency[AccountService]
) -> Template:
    """Who you are, your API tokens, your password."""
    return await _account_page(request, accounts)


@dataclass
class TokenForm:
    name: str = ""


@post("/account/tokens", media_type=MediaType.HTML, include_in_schema=False, opt=SELF)
async def create_token_form(
    request: Request[Any, Any, Any],
    accounts: NamedDependency[AccountService],
    data: URLEncodedBody[TokenForm],
) -> Template:
    """A new API token, shown once on the page."""
    token, _ = await accounts.create_token(_me(request).name, data.name)
    return await _account_page(request, accounts, new_token=token)


@post(
    "/account/tokens/{token_id:int}/revoke",
    media_type=MediaType.HTML,
    include_in_schema=False,
    opt=SELF,
)
async def revoke_token_form(
    request: Request[Any, Any, Any],
    accounts: NamedDependency[AccountService],
    token_id: FromPath[int],
) -> Template:
    try:
        await accounts.revoke_token(token_id, _me(request))
    except AccountError as error:
        return await _account_page(request, accounts, error=str(error), status=error.status_code)
    return await _account_page(request, accounts, notice=f"API token {token_id} is revoked.")


@dataclass
class PasswordForm:
    current: str = ""
    password: str = ""
    confirm: str = ""


@post("/account/password", media_type=MediaType.HTML, include_in_schema=False, opt=SELF)
async def change_password(
    request: Request[Any, Any, Any],
    accounts: NamedDependency[AccountService],
    data: URLEncodedBody[PasswordForm],
) -> Template | Redirect:
    """A new password after the current one; other browsers are signed out, this one not."""
    me = _me(request)
    try:
        if data.password != data.confirm:
            raise AccountError("the two new passwords differ: type the same password twice")
        user = await accounts.authenticate(me.name, data.current, _address(request))
        await accounts.set_password(me.name, data.password)
    except AccountError as error:
        status = HTTP_422_UNPROCESSABLE_ENTITY if error.status_code == 401 else error.status_code
        message = "the current password is wrong" if error.status_code == 401 else str(error)
        return await _account_page(request, accounts, error=message, status=status)
    return await _signed_in(request, accounts, user.id, "/account")


# -- people (admins) ------------------------------------------------------------------------


async def _users_page(
    accounts: AccountService, error: str | None = None, notice: str | None = None, status: int = 200
) -> Template:
    return Template(
        "web/users.html",
        context={
            "users": await accounts.users(),
            "roles": list(Role),
            "error": error,
            "notice": notice,
        },
        status_code=status,
    )


@get("/users", media_type=MediaType.HTML, include_in_schema=False, opt=ADMIN)
async def users_page(accounts: NamedDependency[AccountService]) -> Template:
    return await _users_page(accounts)


@dataclass
class UserForm:
    name: str = ""
    role: str = "operator"
    password: str = ""


@post("/users", media_type=MediaType.HTML, include_in_schema=False, opt=ADMIN)
async def add_user_form(
    accounts: NamedDependency[AccountService], data: URLEncodedBody[UserForm]
) -> Template:
    try:
        user = await accounts.add_user(data.name, Role.parse(data.role), data.password)
    except AccountError as error:
        return await _users_page(accounts, error=str(error), status=error.status_code)
    return await _users_page(accounts, notice=f"{user.name} can now sign in as {user.role}.")


@dataclass
class RoleForm:
    role: str = ""


@post("/users/{name:str}/role", media_type=MediaType.HTML, include_in_schema=False, opt=ADMIN)
async def set_role_form(
    accounts: NamedDependency[AccountService], name: FromPath[str], data: URLEncodedBody[RoleForm]
) -> Template:
    try:
        user = await accounts.set_role(name, Role.parse(data.role))
    except AccountError as error:
        return await _users_page(accounts, error=str(error), status=error.status_code)
    return await _users_page(accounts, notice=f"{user.name} is now {user.role}.")


@post("/users/{name:str}/remove", media_type=MediaType.HTML, include_in_schema=False, opt=ADMIN)
async def remove_user_form(
    accounts: NamedDependency[AccountService], name: FromPath[str]
) -> Template:
    try:
        await accounts.remove_user(name)
    except AccountError as error:
        return await _users_page(accounts, error=str(error), status=error.status_code)
    return await _users_page(accounts, notice=f"{name} is removed; their sessions and tokens end.")


# -- API ------------------------------------------------------------------------------------


@get("/api/me", tags=["accounts"])
async def me_api(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Who this request is signed in as: ``{"name", "role", "via"}``."""
    me = _me(request)
    return {"name": me.name, "role": str(me.role), "via": me.via}


@get("/api/users", tags=["accounts"], opt=ADMIN)
async def users_api(accounts: NamedDependency[AccountService]) -> list[dict[str, Any]]:
    """Every account (admins only)."""
    return [user.to_json() for user in await accounts.users()]


@get("/api/tokens", tags=["accounts"])
async def tokens_api(
    request: Request[Any, Any, Any], accounts: NamedDependency[AccountService]
) -> list[dict[str, Any]]:
    """Your API tokens (never their values)."""
    return [token.to_json() for token in await accounts.tokens(_me(request).name)]


@dataclass
class TokenCreate:
    name: str = ""


@post("/api/tokens", tags=["accounts"], status_code=HTTP_201_CREATED, opt=SELF)
async def create_token_api(
    request: Request[Any, Any, Any],
    accounts: NamedDependency[AccountService],
    data: JSONBody[TokenCreate],
) -> dict[str, Any]:
    """A new API token of yours: ``token`` is shown this once."""
    token, view = await accounts.create_token(_me(request).name, data.name)
    return {**view.to_json(), "token": token}


@post("/api/tokens/{token_id:int}/revoke", tags=["accounts"], opt=SELF, status_code=200)
async def revoke_token_api(
    request: Request[Any, Any, Any],
    accounts: NamedDependency[AccountService],
    token_id: FromPath[int],
) -> Response[Any]:
    """Revoke one of your tokens (admins: anyone's); it stops working at once."""
    await accounts.revoke_token(token_id, _me(request))
    return Response({"revoked": token_id})


ROUTES = [
    setup_page,
    setup_submit,
    login_page,
    login_submit,
    logout,
    account_page,
    create_token_form,
    revoke_token_form,
    change_password,
    users_page,
    add_user_form,
    set_role_form,
    remove_user_form,
    me_api,
    users_api,
    tokens_api,
    create_token_api,
    revoke_token_api,
]
