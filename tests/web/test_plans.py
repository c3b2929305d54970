"""Requests, plans and their decisions over HTTP: the JSON API and the chat and plan pages."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from chiffon.app import create_app
from chiffon.planner import MAX_REQUEST_CHARS
from chiffon.settings import Settings
from tests._auth import ADMIN, set_up

HTMX = {"HX-Request": "true"}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(settings)) as client:
        set_up(client)
        yield client


def _ask(client: TestClient[Litestar], text: str) -> dict[str, Any]:
    response = client.post("/api/requests", json={"text": text})
    assert response.status_code == 201, response.text
    plan: dict[str, Any] = response.json()
    return plan


def _finished(client: TestClient[Litestar], plan_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        plan: dict[str, Any] = client.get(f"/api/plans/{plan_id}").json()
        if plan["status"] in ("succeeded", "failed", "cancelled"):
            return plan
        time.sleep(0.1)
    raise AssertionError(f"plan {plan_id} did not finish")


def test_a_request_returns_the_stored_plan(client: TestClient[Litestar]) -> None:
    plan = _ask(client, "say hello and then run the variables demo with app port 9090")

    assert plan["status"] == "pending_approval" and plan["requester"] == ADMIN
    assert [s["entry"]["name"] for s in plan["steps"]] == ["hello", "vars-demo"]
    assert plan["steps"][1]["vars"] == {"app_port": 9090}
    assert plan["steps"][1]["depends_on"] == [0]
    assert plan["risk"]["level"] in ("low", "medium", "high")
    assert client.get(f"/api/plans/{plan['id']}").json()["steps"] == plan["steps"]


@pytest.mark.parametrize(
    ("text", "message"),
    [("   ", "the request is empty"), ("x" * (MAX_REQUEST_CHARS + 1), "the most is 2000")],
)
def test_it_refuses_an_empty_or_huge_request(
    client: TestClient[Litestar], text: str, message: str
) -> None:
    response = client.post("/api/requests", json={"text": text})

    assert response.status_code == 422 and message in response.json()["error"]
    assert client.get("/api/plans").json() == []


def test_gibberish_and_emoji_get_no_match_not_a_guess(client: TestClient[Litestar]) -> None:
    plan = _ask(client, "🦄🦄 qwzxv plorf の設定")

    assert [s["status"] for s in plan["steps"]] == ["no_match"]
    assert plan["steps"][0]["entry"] is None
    refused = client.post(f"/api/plans/{plan['id']}/approve")
    assert refused.status_code == 409 and "no playbook" in refused.json()["error"]


@pytest.mark.slow
def test_approve_runs_the_plan_and_approving_again_conflicts(
    client: TestClient[Litestar],
) -> None:
    plan = _ask(client, "say hello")
    approved = client.post(f"/api/plans/{plan['id']}/approve", json={"version": plan["version"]})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] in ("approved", "running", "succeeded")
    again = client.post(f"/api/plans/{plan['id']}/approve")
    assert again.status_code == 409 and "already" in again.json()["error"]

    done = _finished(client, plan["id"])
    assert done["status"] == "succeeded" and done["steps"][0]["state"] == "succeeded"
    run = client.get(f"/api/runs/{done['steps'][0]['run_id']}").json()
    assert run["correlation_id"] == plan["correlation_id"]
    assert [c["action"] for c in done["changes"]] == ["approved"]


def test_reject_needs_a_reason_and_then_ends_the_plan(client: TestClient[Litestar]) -> None:
    plan = _ask(client, "say hello")
    no_reason = client.post(f"/api/plans/{plan['id']}/reject", json={"reason": ""})
    assert no_reason.status_code == 422
    rejected = client.post(f"/api/plans/{plan['id']}/reject", json={"reason": "not now"})
    assert rejected.json()["status"] == "rejected" and rejected.json()["reason"] == "not now"
    assert client.post(f"/api/plans/{plan['id']}/approve").status_code == 409


def test_modify_validates_variables_against_the_entry(client: TestClient[Litestar]) -> None:
    plan = _ask(client, "run the variables demo")
    url = f"/api/plans/{plan['id']}/modify"

    undeclared = client.post(url, json={"vars": {"0": {"rm_rf": "/"}}})
    assert undeclared.status_code == 422 and "does not declare" in undeclared.json()["error"]
    wrong_type = client.post(url, json={"vars": {"0": {"app_port": "eighty"}}})
    assert wrong_type.status_code == 422 and "whole number" in wrong_type.json()["error"]
    bad_key = client.post(url, json={"vars": {"first": {}}})
    assert bad_key.status_code == 422
    ok = client.post(url, json={"vars": {"0": {"app_port": "8081"}}, "targets": {"0": "local"}})
    assert ok.status_code == 200, ok.text
    step = ok.json()["steps"][0]
    assert step["vars"] == {"app_port": 8081} and step["target"] == "local"
    assert ok.json()["changes"][0]["detail"]["vars"] == {"1": {"app_port": "8081"}}


def test_unknown_plans_are_404(client: TestClient[Litestar]) -> None:
    assert client.get("/api/plans/999").status_code == 404
    assert client.post("/api/plans/999/approve").json() == {"error": "there is no plan 999"}
    assert client.get("/plans/999").status_code == 404


def test_the_chat_page_plans_a_request_and_shows_the_card(client: TestClient[Litestar]) -> None:
    page = client.get("/chat")
    assert page.status_code == 200 and "Nothing asked yet" in page.text

    card = client.post("/chat", data={"text": "say hello"}, headers=HTMX)
    assert card.status_code == 200
    assert "say hello" in card.text and "hello.yml" in card.text and "Approve" in card.text

    again = client.get("/chat")
    assert 'data-testid="exchange"' in again.text and "hello.yml" in again.text


def test_the_chat_page_escapes_html_and_says_why_it_refuses(
    client: TestClient[Litestar],
) -> None:
    script = "<script>alert('x')</script> deploy"
    card = client.post("/chat", data={"text": script}, headers=HTMX)
    assert "<script>alert" not in card.text and "&lt;script&gt;" in card.text

    empty = client.post("/chat", data={"text": ""}, headers=HTMX)
    assert empty.status_code == 422 and "the request is empty" in empty.text
    assert "Traceback" not in empty.text


def test_the_plan_page_offers_decisions_and_records_a_rejection(
    client: TestClient[Litestar],
) -> None:
    plan = _ask(client, "say hello")
    page = client.get(f"/plans/{plan['id']}")
    assert page.status_code == 200 and "Approve and run" in page.text and "Reject" in page.text

    refused = client.post(f"/plans/{plan['id']}/reject", data={"reason": ""}, headers=HTMX)
    assert refused.status_code == 422 and "a reason is required" in refused.text
    done = client.post(
        f"/plans/{plan['id']}/reject",
        data={"reason": "<b>not</b> today", "version": str(plan["version"])},
        headers=HTMX,
    )
    assert done.status_code == 200 and "&lt;b&gt;not&lt;/b&gt; today" in done.text
    assert "Approve and run" not in done.text
    assert client.get("/plans").text.count(f'href="/plans/{plan["id"]}"') >= 1


def test_the_plan_page_modify_form_edits_and_refuses_bad_values(
    client: TestClient[Litestar],
) -> None:
    plan = _ask(client, "say hello and then run the variables demo")
    url = f"/plans/{plan['id']}/modify"
    bad = client.post(url, data={"keep_1": "on", "vars_1": "app_port=lots"}, headers=HTMX)
    assert bad.status_code == 422 and "app_port must be a whole number" in bad.text

    good = client.post(
        url, data={"keep_1": "on", "order_1": "1", "vars_1": "app_port=9000"}, headers=HTMX
    )
    assert good.status_code == 200
    stored = client.get(f"/api/plans/{plan['id']}").json()
    assert [s["entry"]["name"] for s in stored["steps"]] == ["vars-demo"]
    assert stored["steps"][0]["vars"] == {"app_port": 9000}


def test_the_plan_stream_sends_the_card_and_ends_for_a_finished_plan(
    client: TestClient[Litestar],
) -> None:
    plan = _ask(client, "say hello")
    client.post(f"/api/plans/{plan['id']}/reject", json={"reason": "no"})
    body = client.get(f"/plans/{plan['id']}/stream").text
    assert "event: card" in body and "event: end" in body and "rejected" in body
