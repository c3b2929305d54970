"""The pages in a real headless Chromium (Debian's, driven by Playwright) against `chiffon serve`.

Screenshots of each run are kept in `artifacts/browser/` (CI keeps them as test artifacts).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._server import Server, open_signed_in, server_env

pytestmark = [pytest.mark.browser, pytest.mark.slow]

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def server(tmp_path: Path, sample_repo: Path) -> Iterator[Server]:
    server = Server(server_env(tmp_path / "data", sample_repo))
    server.start()
    yield server
    server.stop()


def test_it_runs_a_playbook_from_the_catalog_and_shows_the_live_log(
    server: Server, page: object
) -> None:
    expect = playwright_api.expect
    open_signed_in(page, server, "/catalog")
    page.fill("#catalog-q", "hello")  # type: ignore[attr-defined]
    page.get_by_role("link", name="hello", exact=True).click()  # type: ignore[attr-defined]
    expect(page.locator("h1")).to_contain_text("hello")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Run").click()  # type: ignore[attr-defined]

    expect(page.locator("#log")).to_contain_text("PLAY RECAP", timeout=30_000)  # type: ignore[attr-defined]
    expect(page.locator(".badge-succeeded")).to_be_visible(timeout=10_000)  # type: ignore[attr-defined]
    expect(page.locator("#log")).to_contain_text("Hello from localhost")  # type: ignore[attr-defined]
    expect(page.locator("section.recap")).to_contain_text("localhost")  # type: ignore[attr-defined]
    run_id = int(page.url.rstrip("/").rsplit("/", 1)[1])  # type: ignore[attr-defined]
    commit = server.get(f"/api/runs/{run_id}")["audit_commit"]
    expect(page.locator(".audit-commit")).to_have_attribute("title", commit)  # type: ignore[attr-defined]
    assert page.locator("#log").inner_text().count("TASK [Greet]") == 1  # type: ignore[attr-defined]


def test_it_shows_a_notice_when_the_stream_drops_and_resumes_without_repeats(
    server: Server, page: object
) -> None:
    expect = playwright_api.expect
    run = server.post("/api/runs", {"entry": "slow.yml"})
    open_signed_in(page, server, f"/runs/{run['id']}")
    expect(page.locator("#log")).to_contain_text("TASK [Sleep]", timeout=30_000)  # type: ignore[attr-defined]
    notice = page.locator("#stream-notice")  # type: ignore[attr-defined]
    expect(notice).to_be_hidden()

    server.kill()
    expect(notice).to_be_visible(timeout=10_000)

    server.start()  # same port: the page's EventSource reconnects with Last-Event-ID
    expect(page.locator(".badge-interrupted")).to_be_visible(timeout=20_000)  # type: ignore[attr-defined]
    expect(notice).to_be_hidden()
    log = page.locator("#log").inner_text()  # type: ignore[attr-defined]
    assert log.count("TASK [Start]") == 1
    assert log.count("TASK [Sleep]") == 1


def test_it_keeps_the_form_and_says_what_is_wrong_with_bad_extra_vars(
    server: Server, page: object
) -> None:
    open_signed_in(page, server, "/runs/new")
    page.select_option("#run-entry", "playbook:hello")  # type: ignore[attr-defined]
    page.fill("#run-limit", "localhost")  # type: ignore[attr-defined]
    page.fill("#run-vars", "not a pair")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Run").click()  # type: ignore[attr-defined]

    alert = page.locator(".alert.error")  # type: ignore[attr-defined]
    playwright_api.expect(alert).to_contain_text("must be a mapping of name: value")
    assert page.input_value("#run-limit") == "localhost"  # type: ignore[attr-defined]
    assert page.input_value("#run-vars") == "not a pair"  # type: ignore[attr-defined]
    assert server.get("/api/runs") == []
