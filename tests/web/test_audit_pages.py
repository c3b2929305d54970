"""Audit pages and API through Litestar's test client against the real app, on both databases."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import text

from chiffon.app import create_app
from chiffon.settings import Settings
from tests._auth import ADMIN, set_up
from tests.integration.test_migrations import sync_engine

HOSTILE = '<script>alert("x")</script> say hello & <b>bold</b>'


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(settings)) as client:
        set_up(client)
        yield client


def _rejected_plan(client: TestClient[Litestar], text: str = HOSTILE) -> dict[str, Any]:
    created = client.post("/api/requests", json={"text": text})
    assert created.status_code == 201, created.text
    plan_id = created.json()["id"]
    rejected = client.post(f"/api/plans/{plan_id}/reject", json={"reason": "not <i>now</i>"})
    assert rejected.status_code == 200, rejected.text
    plan: dict[str, Any] = rejected.json()
    return plan


def test_it_shows_a_plan_record_side_by_side_and_escaped(client: TestClient[Litestar]) -> None:
    plan = _rejected_plan(client)

    api = client.get(f"/api/audit/plans/{plan['id']}").json()
    page = client.get(f"/audit/plans/{plan['id']}")

    assert api["verified"] is True and api["problems"] == []
    assert api["commit"] == plan["audit_commit"] and re.fullmatch(r"[0-9a-f]{40}", api["commit"])
    assert api["record"]["request"] == HOSTILE
    assert api["record"]["decision"]["reason"] == "not <i>now</i>"
    assert api["db"]["request"] == HOSTILE and api["db"]["changes"][0]["action"] == "rejected"
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<i>now</i>" not in page.text
    assert "&lt;script&gt;alert(" in page.text
    assert 'data-testid="audit-db"' in page.text and 'data-testid="audit-record"' in page.text
    assert plan["audit_commit"] in page.text and "verified" in page.text
    assert '<a href="/audit" aria-current="page">Audit</a>' in page.text


def test_it_lists_records_with_filters_and_htmx(client: TestClient[Litestar]) -> None:
    plan = _rejected_plan(client)

    everything = client.get("/api/audit").json()
    by_person = client.get("/api/audit", params={"person": "ADA", "status": "rejected"}).json()
    by_service = client.get("/api/audit", params={"service": "hell"}).json()
    nobody = client.get("/api/audit", params={"person": "mallory"}).json()
    old = client.get("/api/audit", params={"from": "2020-01-01", "to": "2020-12-31"}).json()
    runs_only = client.get("/api/audit", params={"kind": "run"}).json()
    page = client.get("/audit", params={"status": "rejected"})
    partial = client.get("/audit", params={"person": "ada"}, headers={"HX-Request": "true"})

    [item] = everything["items"]
    assert (item["kind"], item["id"], item["status"], item["requested_by"]) == (
        "plan",
        plan["id"],
        "rejected",
        ADMIN,
    )
    assert item["commit"] == plan["audit_commit"] and item["url"] == f"/audit/plans/{plan['id']}"
    assert "hello" in item["services"]
    assert by_person["items"] == [item] and by_service["items"] == [item]
    assert nobody["items"] == old["items"] == runs_only["items"] == []
    assert everything["more"] is False
    assert page.status_code == 200 and f'href="/audit/plans/{plan["id"]}"' in page.text
    assert 'hx-get="/audit"' in page.text and 'hx-push-url="true"' in page.text
    assert "<script>alert" not in page.text
    assert partial.status_code == 200 and "<html" not in partial.text
    assert f"plan #{plan['id']}" in partial.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "yesterday"}, "from must be a date like 2025-03-01"),
        ({"to": "2025-13-45"}, "to must be a date like 2025-03-01"),
        ({"from": "2025-03-02", "to": "2025-03-01"}, "must be before to"),
        ({"status": "exploded"}, "status must be one of"),
        ({"kind": "host"}, "kind must be run or plan"),
    ],
)
def test_it_refuses_a_bad_filter_with_422(
    client: TestClient[Litestar], params: dict[str, str], message: str
) -> None:
    api = client.get("/api/audit", params=params)
    page = client.get("/audit", params=params)
    partial = client.get("/audit", params=params, headers={"HX-Request": "true"})

    assert api.status_code == 422 and message in api.json()["error"]
    assert page.status_code == 422 and message in page.text and "Traceback" not in page.text
    assert partial.status_code == 200 and message in partial.text  # HTMX swaps only 2xx


@pytest.mark.parametrize("kind", ["runs", "plans"])
def test_it_answers_404_for_an_unknown_id(client: TestClient[Litestar], kind: str) -> None:
    api = client.get(f"/api/audit/{kind}/424242")
    page = client.get(f"/audit/{kind}/424242")

    assert api.status_code == 404
    assert api.json()["error"] == f"There is no {kind[:-1]} 424242."
    assert page.status_code == 404 and f"There is no {kind[:-1]} 424242." in page.text
    assert "Traceback" not in page.text


def test_it_says_an_undecided_plan_is_not_audited_yet(client: TestClient[Litestar]) -> None:
    plan = client.post("/api/requests", json={"text": "say hello"}).json()

    api = client.get(f"/api/audit/plans/{plan['id']}").json()

    assert (api["commit"], api["record"], api["verified"]) == (None, None, False)
    assert api["problems"] == [
        f"plan {plan['id']}: it is pending_approval; a plan is audited when decided"
    ]


@pytest.mark.slow
def test_it_shows_a_run_record_and_notices_a_run_changed_behind_its_back(
    client: TestClient[Litestar], settings: Settings
) -> None:
    started = client.post("/api/runs", json={"entry": "fail.yml"}).json()
    client.get(f"/runs/{started['id']}/stream")  # the stream ends once the run is finished
    run = client.get(f"/api/runs/{started['id']}").json()

    api = client.get(f"/api/audit/runs/{run['id']}").json()
    page = client.get(f"/audit/runs/{run['id']}")
    failed = client.get("/api/audit", params={"status": "failed", "kind": "run"}).json()

    assert api["verified"] is True and api["commit"] == run["audit_commit"]
    assert api["record"]["status"] == "failed" and api["db"]["id"] == run["id"]
    assert page.status_code == 200 and run["audit_commit"] in page.text
    assert [(i["kind"], i["id"], i["title"]) for i in failed["items"]] == [
        ("run", run["id"], "fail")
    ]
    assert failed["items"][0]["error"] == "localhost: Fail here: This playbook fails on purpose"

    engine = sync_engine(settings.effective_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE runs SET rc = 5"))
    finally:
        engine.dispose()
    tampered = client.get(f"/api/audit/runs/{run['id']}").json()
    page = client.get(f"/audit/runs/{run['id']}")

    assert tampered["verified"] is False
    assert tampered["problems"] == [
        f"run {run['id']}: .audit/runs/{run['id']}.json in audit commit {run['audit_commit']} "
        "differs from the database: rc"
    ]
    assert "not verified" in page.text and "differs from the database: rc" in page.text


def test_it_documents_the_audit_api_in_openapi(client: TestClient[Litestar]) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]

    for path in ("/api/audit", "/api/audit/runs/{run_id}", "/api/audit/plans/{plan_id}"):
        assert path in paths, path
    names = {p["name"] for p in paths["/api/audit"]["get"]["parameters"]}
    assert {"from", "to", "service", "status", "person", "kind", "page"} <= names
    assert "/audit/runs/{run_id}" not in paths  # pages are not part of the API
