"""Errors as people and programs should see them: a friendly page, or ``{"error": ...}`` JSON.

Nothing here ever shows a traceback: an unexpected error is logged with its traceback and the
person gets a plain 500 page naming the request's path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_400_BAD_REQUEST,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
)

from chiffon.analyzer import AnalyzerError, SuggestionConflict, SuggestionNotFound
from chiffon.approval import ApprovalError
from chiffon.catalog import CatalogError, EntryNotFound
from chiffon.executor import RunRequestError
from chiffon.lib.extravars import ExtraVarsError
from chiffon.planner import RequestError
from chiffon.web.accounts import AccountError, SignInThrottled
from chiffon.web.auth import SignInRequired

__all__ = ["exception_handlers", "is_api"]

log = logging.getLogger("chiffon.web")

_TITLES = {
    400: "That request cannot be used",
    401: "Sign in first",
    404: "Not found",
    403: "Not allowed",
    405: "Method not allowed",
    409: "That cannot be done now",
    429: "Too many attempts",
    422: "That input cannot be used",
    500: "Something went wrong",
}

Handler = Callable[[Request[Any, Any, Any], Exception], Response[Any]]


def is_api(request: Request[Any, Any, Any]) -> bool:
    return request.url.path == "/api" or request.url.path.startswith("/api/")


def error_response(
    request: Request[Any, Any, Any], status: int, message: str, details: Any = None
) -> Response[Any]:
    """``{"error": message}`` for ``/api/...``, else the ``error.html`` page, with ``status``."""
    if is_api(request):
        body: dict[str, Any] = {"error": message}
        if details:
            body["details"] = details
        return Response(body, status_code=status, media_type=MediaType.JSON)
    return Template(
        template_name="error.html",
        context={
            "status": status,
            "title": _TITLES.get(status, "Error"),
            "message": message,
            "details": details if isinstance(details, list) else None,
        },
        status_code=status,
        media_type=MediaType.HTML,
    )


def _sign_in(request: Request[Any, Any, Any], exc: SignInRequired) -> Response[Any]:
    """API: 401 with ``WWW-Authenticate``. Pages: to the set-up or sign-in page, and back
    here afterwards (an HTMX request is told to load that page instead of swapping it in)."""
    if is_api(request):
        response = error_response(request, exc.status_code, exc.detail)
        response.headers["WWW-Authenticate"] = 'Bearer realm="chiffon"'
        return response
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = "/setup" if exc.setup else "/login?" + urlencode({"next": here})
    if request.headers.get("hx-request"):
        return Response("", status_code=exc.status_code, headers={"HX-Redirect": target})
    return Redirect(target, status_code=HTTP_303_SEE_OTHER)


def _http(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, HTTPException)
    if isinstance(exc, SignInRequired):
        return _sign_in(request, exc)
    status = exc.status_code
    message = exc.detail
    if status == HTTP_404_NOT_FOUND and message in ("", "Not Found"):
        message = f"There is nothing at {request.url.path}."
    details = exc.extra if isinstance(exc, ValidationException) else None
    if status >= HTTP_500_INTERNAL_SERVER_ERROR:
        log.error("%s %s failed: %s", request.method, request.url.path, message)
        message = "Chiffon could not answer this request. The error is in its log."
    return error_response(request, status, message, details)


def _with_status(status: int) -> Handler:
    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        return error_response(request, status, str(exc))

    return handle


def _refused(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, ApprovalError | AccountError)
    response = error_response(request, exc.status_code, str(exc))
    if isinstance(exc, SignInThrottled):
        response.headers["Retry-After"] = str(exc.retry_after_s)
    return response


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return error_response(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "Chiffon could not answer this request. The error is in its log.",
    )


def exception_handlers() -> dict[type[Exception] | int, Handler]:
    """The app's handlers: HTTP errors, the services' input errors, and anything unexpected."""
    return {
        HTTPException: _http,
        RunRequestError: _with_status(HTTP_400_BAD_REQUEST),
        EntryNotFound: _with_status(HTTP_404_NOT_FOUND),
        CatalogError: _with_status(HTTP_400_BAD_REQUEST),
        ExtraVarsError: _with_status(HTTP_422_UNPROCESSABLE_ENTITY),
        RequestError: _with_status(HTTP_422_UNPROCESSABLE_ENTITY),
        ApprovalError: _refused,
        AccountError: _refused,
        SuggestionNotFound: _with_status(HTTP_404_NOT_FOUND),
        SuggestionConflict: _with_status(HTTP_409_CONFLICT),
        AnalyzerError: _with_status(HTTP_400_BAD_REQUEST),
        HTTP_500_INTERNAL_SERVER_ERROR: _unexpected,
        Exception: _unexpected,
    }
