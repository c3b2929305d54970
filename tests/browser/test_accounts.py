"""Accounts in a real headless Chromium against `chiffon serve`: the first visit's set-up,
signing out and in (a wrong password first), and an admin adding someone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._server import PASSWORD, Server, server_env

pytestmark = [pytest.mark.browser, pytest.mark.slow]

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def server(tmp_path: Path, sample_repo: Path) -> Iterator[Server]:
    server = Server(server_env(tmp_path / "data", sample_repo), admin=False)
    server.start()
    yield server
    server.stop()


def test_the_first_visit_sets_up_the_admin_who_signs_out_and_in(
    server: Server, page: object
) -> None:
    expect = playwright_api.expect
    page.goto(server.url + "/plans")  # type: ignore[attr-defined]
    page.wait_for_url("**/setup")  # type: ignore[attr-defined]
    page.fill("#setup-name", "grace")  # type: ignore[attr-defined]
    page.fill("#setup-password", PASSWORD)  # type: ignore[attr-defined]
    page.fill("#setup-confirm", PASSWORD)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Create the admin and sign in").click()  # type: ignore[attr-defined]
    page.wait_for_url(server.url + "/")  # type: ignore[attr-defined]
    expect(page.locator(".topbar .who")).to_contain_text("grace")  # type: ignore[attr-defined]
    expect(page.locator(".topbar .who")).to_contain_text("admin")  # type: ignore[attr-defined]

    page.get_by_role("button", name="Sign out").click()  # type: ignore[attr-defined]
    page.wait_for_url("**/login")  # type: ignore[attr-defined]
    page.fill("#login-name", "grace")  # type: ignore[attr-defined]
    page.fill("#login-password", "not the password")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    expect(page.locator(".alert.error")).to_contain_text("wrong name or password")  # type: ignore[attr-defined]
    expect(page.locator("#login-name")).to_have_value("grace")  # type: ignore[attr-defined]

    page.fill("#login-password", PASSWORD)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    page.wait_for_url(server.url + "/")  # type: ignore[attr-defined]

    page.get_by_role("link", name="People").click()  # type: ignore[attr-defined]
    page.fill("#user-name", "otto")  # type: ignore[attr-defined]
    page.fill("#user-password", PASSWORD)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Add").click()  # type: ignore[attr-defined]
    expect(page.get_by_role("status")).to_contain_text("otto can now sign in as operator")  # type: ignore[attr-defined]
