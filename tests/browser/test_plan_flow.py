"""The request-to-run flow in a real headless Chromium against `chiffon serve`: ask in the
chat, read the plan card, preview, approve, watch the plan run live. Screenshots go to
`artifacts/browser/`."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._server import ADMIN, Server, open_signed_in, server_env

BUNDLED = Path(__file__).resolve().parents[2] / "playbooks"
KUMA_REQUEST = "Deploy Uptime Kuma to the homelab and add our existing portals to its config"

pytestmark = [pytest.mark.browser, pytest.mark.slow]

playwright_api = pytest.importorskip("playwright.sync_api")


def _serve(tmp_path: Path, playbooks: Path) -> Iterator[Server]:
    server = Server(server_env(tmp_path / "data", playbooks))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sample_server(tmp_path: Path, sample_repo: Path) -> Iterator[Server]:
    yield from _serve(tmp_path, sample_repo)


@pytest.fixture
def bundled_server(tmp_path: Path) -> Iterator[Server]:
    repo = tmp_path / "playbooks"
    shutil.copytree(BUNDLED, repo)
    yield from _serve(tmp_path, repo)


def _ask(page: object, server: Server, text: str) -> object:
    expect = playwright_api.expect
    open_signed_in(page, server, "/chat")
    page.fill("#request-text", text)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Plan it").click()  # type: ignore[attr-defined]
    card = page.locator(".plan-card").last  # type: ignore[attr-defined]
    expect(card).to_be_visible(timeout=15_000)
    return card


def test_a_request_is_planned_previewed_approved_and_run_live(
    sample_server: Server,
    page: object,
) -> None:
    expect = playwright_api.expect
    card = _ask(page, sample_server, "say hello and then run the variables demo on port 9090")
    expect(card).to_contain_text("hello.yml")  # type: ignore[arg-type]
    expect(card).to_contain_text("vars-demo.yml")  # type: ignore[arg-type]
    expect(card).to_contain_text("app_port=9090")  # type: ignore[arg-type]
    expect(page.locator("#request-text")).to_have_value("")  # type: ignore[attr-defined]

    card.get_by_role("link", name="Plan #").click()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Preview (dry run)").click()  # type: ignore[attr-defined]
    previews = page.locator("[data-testid=preview]")  # type: ignore[attr-defined]
    expect(previews).to_have_count(2, timeout=60_000)
    expect(previews.first).to_contain_text("succeeded")
    expect(page.locator("[data-testid=plan-status]")).to_contain_text("pending approval")  # type: ignore[attr-defined]

    page.get_by_role("button", name="Approve and run").click()  # type: ignore[attr-defined]
    expect(page.locator("[data-testid=plan-status]")).to_contain_text(  # type: ignore[attr-defined]
        "succeeded", timeout=60_000
    )
    states = page.locator("[data-testid=step-state]")  # type: ignore[attr-defined]
    expect(states).to_have_text(["succeeded", "succeeded"])
    expect(page.locator("[data-testid=plan-summary]")).to_contain_text("localhost")  # type: ignore[attr-defined]

    plan_id = int(page.url.rsplit("/", 1)[1])  # type: ignore[attr-defined]
    page.get_by_role("link", name="run #").first.click()  # type: ignore[attr-defined]
    expect(page.locator("#log")).to_contain_text("PLAY RECAP", timeout=10_000)  # type: ignore[attr-defined]

    commit = _audit_commit(sample_server, plan_id)
    page.goto(f"{sample_server.url}/audit/plans/{plan_id}")  # type: ignore[attr-defined]
    expect(page.locator("main")).to_contain_text(commit)  # type: ignore[attr-defined]
    expect(page.locator("main")).to_contain_text(ADMIN)  # type: ignore[attr-defined] (approver)


def _audit_commit(server: Server, plan_id: int) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        commit = server.get(f"/api/plans/{plan_id}")["audit_commit"]
        if commit:
            return str(commit)
        time.sleep(0.2)
    raise AssertionError(f"plan {plan_id} was not committed to the audit trail")


def test_the_kuma_request_fails_clearly_and_skips_what_depends_on_it(
    bundled_server: Server,
    page: object,
) -> None:
    expect = playwright_api.expect
    card = _ask(page, bundled_server, KUMA_REQUEST)
    expect(card).to_contain_text("kuma-deploy")  # type: ignore[arg-type]
    expect(card).to_contain_text("kuma-config-update")  # type: ignore[arg-type]
    expect(card).to_contain_text("Home Assistant")  # type: ignore[arg-type] (portals from group_vars)

    card.get_by_role("button", name="Approve and run").click()  # type: ignore[attr-defined]
    card = page.locator(".plan-card").last  # type: ignore[attr-defined]
    card.get_by_role("link", name="Plan #").click()
    expect(page.locator("[data-testid=plan-status]")).to_contain_text(  # type: ignore[attr-defined]
        "failed", timeout=90_000
    )
    expect(page.locator("[data-testid=step-state]")).to_have_text(["failed", "skipped"])  # type: ignore[attr-defined]
    expect(page.locator(".plan-card .alert.error").first).to_be_visible()  # type: ignore[attr-defined]
    expect(page.get_by_role("button", name="Re-run this step")).to_be_visible()  # type: ignore[attr-defined]

    page.get_by_role("link", name="Why did it fail?").click()  # type: ignore[attr-defined]
    expect(page.locator("h1")).to_contain_text("Post-mortem: plan #")  # type: ignore[attr-defined]
    expect(page.locator("[data-testid=step-state]")).to_have_text(["failed", "skipped"])  # type: ignore[attr-defined]
    expect(page.locator(".failure .diagnosis-class")).to_be_visible()  # type: ignore[attr-defined]
