"""The JSON API under /api and its OpenAPI schema, against the real app, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from chiffon.app import create_app
from chiffon.settings import Settings
from tests._auth import ADMIN, set_up


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(settings)) as client:
        set_up(client)
        yield client


def _start(client: TestClient[Litestar], **body: Any) -> dict[str, Any]:
    response = client.post("/api/runs", json=body)
    assert response.status_code == 201, response.text
    run: dict[str, Any] = response.json()
    return run


def _wait(client: TestClient[Litestar], run_id: int) -> dict[str, Any]:
    client.get(f"/runs/{run_id}/stream")  # the stream ends once the run is finished
    run: dict[str, Any] = client.get(f"/api/runs/{run_id}").json()
    return run


def test_it_lists_catalog_entries(client: TestClient[Litestar]) -> None:
    entries = client.get("/api/catalog").json()

    names = {(entry["kind"], entry["name"]) for entry in entries}
    assert ("playbook", "hello") in names
    assert ("role", "web") in names
    broken = next(entry for entry in entries if entry["name"] == "broken")
    assert broken["valid"] is False and broken["error"]


def test_it_searches_catalog_entries(client: TestClient[Litestar]) -> None:
    entries = client.get("/api/catalog", params={"q": "hello"}).json()

    assert [entry["name"] for entry in entries] == ["hello"]
    assert client.get("/api/catalog", params={"q": "zzz-nothing"}).json() == []


def test_it_gets_one_entry_and_404s_an_unknown_one(client: TestClient[Litestar]) -> None:
    first = client.get("/api/catalog").json()[0]

    assert client.get(f"/api/catalog/{first['id']}").json() == first
    missing = client.get("/api/catalog/424242")
    assert missing.status_code == 404
    assert missing.json() == {"error": "There is no catalog entry 424242."}


def test_it_rescans_the_catalog(client: TestClient[Litestar], settings: Settings) -> None:
    (settings.playbooks_dir / "new.yml").write_text(
        "- name: New\n  hosts: all\n  tasks:\n    - ansible.builtin.ping:\n"
    )
    result = client.post("/api/catalog/scan").json()

    assert result["parsed"] == 1
    assert result["reused"] > 0
    assert "new" in {entry["name"] for entry in client.get("/api/catalog").json()}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"entry": "no-such-playbook"}, "no-such-playbook"),
        ({"entry": "../../etc/passwd"}, "../../etc/passwd"),
        ({"entry": "/etc/passwd"}, "/etc/passwd"),
        ({"entry": "broken"}, "cannot run"),
        ({"entry": "hello", "inventory": "missing.ini"}, "missing.ini"),
        ({"entry": "hello", "extra_vars": {"not a name": 1}}, "variable names"),
    ],
)
def test_it_refuses_a_bad_run_with_400_and_creates_nothing(
    client: TestClient[Litestar], body: dict[str, Any], message: str
) -> None:
    response = client.post("/api/runs", json=body)

    assert response.status_code == 400
    assert message in response.json()["error"]
    assert client.get("/api/runs").json() == []


def test_it_refuses_a_malformed_body(client: TestClient[Litestar]) -> None:
    response = client.post("/api/runs", json={"extra_vars": "a=1"})

    assert response.status_code == 400
    assert "error" in response.json()
    assert "Traceback" not in response.text
    assert client.get("/api/runs").json() == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/runs/424242"),
        ("GET", "/api/runs/424242/events"),
        ("POST", "/api/runs/424242/cancel"),
    ],
)
def test_it_404s_an_unknown_run(client: TestClient[Litestar], method: str, path: str) -> None:
    response = client.request(method, path)

    assert response.status_code == 404
    assert response.json() == {"error": "There is no run 424242."}


def test_it_answers_json_404_for_unknown_api_paths(client: TestClient[Litestar]) -> None:
    response = client.get("/api/nothing-here")

    assert response.status_code == 404
    assert "error" in response.json()


def test_it_verifies_the_audit_trail(client: TestClient[Litestar]) -> None:
    assert client.get("/api/audit/verify").json() == {"ok": True, "checked": 0, "problems": []}


def test_it_documents_the_api_in_openapi(client: TestClient[Litestar]) -> None:
    schema = client.get("/schema/openapi.json").json()

    paths = schema["paths"]
    for path in (
        "/api/runs",
        "/api/runs/{run_id}",
        "/api/runs/{run_id}/events",
        "/api/runs/{run_id}/cancel",
        "/api/catalog",
        "/api/catalog/{entry_id}",
        "/api/catalog/scan",
        "/api/audit/verify",
    ):
        assert path in paths, path
    body = paths["/api/runs"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    create = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert create["required"] == ["entry"]
    assert {"entry", "inventory", "limit", "tags", "extra_vars", "check"} <= set(
        create["properties"]
    )
    assert "/runs/{run_id}" not in paths  # pages are not part of the API


@pytest.mark.slow
def test_it_runs_a_playbook_through_the_api(client: TestClient[Litestar]) -> None:
    started = _start(client, entry="hello.yml", extra_vars={"greeting": "Hi"}, check=False)
    assert started["status"] in ("queued", "running")
    assert started["requested_by"] == ADMIN

    run = _wait(client, started["id"])
    assert run["status"] == "succeeded"
    assert run["rc"] == 0
    assert run["extra_vars"] == {"greeting": "Hi"}
    assert run["host_stats"]["localhost"]["failures"] == 0
    assert run["audit_commit"]

    events = client.get(f"/api/runs/{run['id']}/events").json()
    assert [event["seq"] for event in events] == list(range(1, run["event_count"] + 1))
    assert any("Hi from localhost" in event["stdout"] for event in events)
    tail = client.get(f"/api/runs/{run['id']}/events", params={"after": len(events) - 2}).json()
    assert [event["seq"] for event in tail] == [len(events) - 1, len(events)]
    assert [r["id"] for r in client.get("/api/runs").json()] == [run["id"]]
    assert client.get("/api/audit/verify").json()["ok"] is True


@pytest.mark.slow
def test_it_cancels_a_run_through_the_api(client: TestClient[Litestar]) -> None:
    started = _start(client, entry="slow")

    cancelled = client.post(f"/api/runs/{started['id']}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["cancelled"] is True
    run = _wait(client, started["id"])
    assert run["status"] == "cancelled"

    again = client.post(f"/api/runs/{started['id']}/cancel")
    assert again.status_code == 409
    assert "already cancelled" in again.json()["error"]
