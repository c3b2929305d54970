"""Signing test clients in through the real pages: the set-up form, the sign-in form, CSRF."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar.testing import TestClient

ADMIN = "ada"
PASSWORD = "correct horse battery"


def refresh_csrf(client: TestClient[Any]) -> str:
    """Load a page so the CSRF cookie is set, and send its value on every later request."""
    client.headers.pop("X-CSRF-Token", None)
    client.get("/healthz")
    token = client.cookies.get("chiffon_csrf")
    assert token, "every response sets the CSRF cookie when the browser has none"
    client.headers["X-CSRF-Token"] = token
    return token


def set_up(client: TestClient[Any], name: str = ADMIN, password: str = PASSWORD) -> None:
    """Create the first admin through the set-up page; ``client`` is then signed in as them."""
    token = refresh_csrf(client)
    response = client.post(
        "/setup",
        data={"name": name, "password": password, "confirm": password, "_csrf": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    refresh_csrf(client)


def add_user(admin: TestClient[Any], name: str, role: str, password: str = PASSWORD) -> None:
    """An account made by the signed-in admin ``admin`` on the people page."""
    response = admin.post("/users", data={"name": name, "role": role, "password": password})
    assert response.status_code == 200 and f"{name} can now sign in" in response.text


def sign_in(client: TestClient[Any], name: str, password: str = PASSWORD) -> Any:
    """Sign ``client`` in through the sign-in form; returns the form's response."""
    client.cookies.clear()
    token = refresh_csrf(client)
    response = client.post(
        "/login",
        data={"name": name, "password": password, "_csrf": token},
        follow_redirects=False,
    )
    if response.status_code == 303:
        refresh_csrf(client)
    return response


@contextmanager
def another_browser(client: TestClient[Any]) -> Iterator[TestClient[Any]]:
    """``client`` as a second browser (no cookies) inside the block; its own cookies and CSRF
    header are back afterwards. (One TestClient per app: each runs the app's start-up.)"""
    cookies = dict(client.cookies)
    csrf = client.headers.pop("X-CSRF-Token", None)
    client.cookies.clear()
    try:
        yield client
    finally:
        client.cookies.clear()
        for name, value in cookies.items():
            client.cookies.set(name, value)
        client.headers.pop("X-CSRF-Token", None)
        if csrf:
            client.headers["X-CSRF-Token"] = csrf
