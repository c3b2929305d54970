"""The HTML pages, through Litestar's test client against the real app, on both databases."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from chiffon.app import create_app
from chiffon.lib.extravars import ExtraVarsError, parse_form_vars
from chiffon.settings import Settings
from tests._auth import set_up


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(settings)) as client:
        set_up(client)
        yield client


def _entry_id(client: TestClient[Litestar], name: str, kind: str = "playbook") -> int:
    entries = client.get("/api/catalog", params={"kind": kind}).json()
    return int(next(entry["id"] for entry in entries if entry["name"] == name))


def _form(**values: str) -> dict[str, Any]:
    return {"entry": "", "inventory": "", "limit": "", "tags": "", "extra_vars": "", **values}


def _no_runs(client: TestClient[Litestar]) -> bool:
    runs: list[Any] = client.get("/api/runs").json()
    return runs == []


def test_it_shows_the_dashboard_with_catalog_counts(client: TestClient[Litestar]) -> None:
    page = client.get("/")

    assert page.status_code == 200
    assert "Dashboard" in page.text
    assert re.search(r'class="count">\d+</span>\s*<span class="label">playbooks', page.text)
    assert "No runs yet" in page.text
    assert '<script src="/static/htmx.min.js"' in page.text


def test_it_answers_the_health_check(client: TestClient[Litestar]) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_it_serves_the_vendored_static_files(client: TestClient[Litestar]) -> None:
    for name in ("htmx.min.js", "sse.js", "chiffon.js", "chiffon.css"):
        assert client.get(f"/static/{name}").status_code == 200


def test_it_lists_the_catalog_with_an_htmx_search_box(client: TestClient[Litestar]) -> None:
    page = client.get("/catalog")

    assert page.status_code == 200
    assert 'hx-trigger="input changed delay:200ms' in page.text
    assert "hello.yml" in page.text and "roles/web" in page.text


def test_it_answers_an_htmx_search_with_the_entries_partial(
    client: TestClient[Litestar],
) -> None:
    partial = client.get("/catalog", params={"q": "hello"}, headers={"HX-Request": "true"})

    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert "hello.yml" in partial.text
    assert "slow.yml" not in partial.text


def test_it_filters_the_catalog_by_kind(client: TestClient[Litestar]) -> None:
    page = client.get("/catalog", params={"kind": "role"})

    assert "roles/web" in page.text
    assert "hello.yml" not in page.text
    assert client.get("/catalog", params={"kind": ""}).status_code == 200


def test_it_shows_an_entry_with_its_variables_tasks_and_run_form(
    client: TestClient[Litestar],
) -> None:
    page = client.get(f"/catalog/{_entry_id(client, 'vars-demo')}")

    assert page.status_code == 200
    text = page.text
    for expected in ("app_port", "8080", "play vars", "admin_email", "vars_prompt"):
        assert expected in text
    assert "Show the settings" in text
    assert "Show how variables reach a play" in text
    assert '<form class="run-form" method="post" action="/runs">' in text
    assert 'name="entry" value="playbook:vars-demo"' in text


def test_it_shows_an_invalid_entry_with_its_error(client: TestClient[Litestar]) -> None:
    page = client.get(f"/catalog/{_entry_id(client, 'broken')}")

    assert page.status_code == 200
    assert "This entry cannot run." in page.text
    assert "line" in page.text
    assert 'action="/runs"' not in page.text


@pytest.mark.parametrize("path", ["/runs/424242", "/catalog/424242", "/no/such/page"])
def test_it_shows_a_friendly_404_page(client: TestClient[Litestar], path: str) -> None:
    page = client.get(path)

    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Not found" in page.text
    assert "Traceback" not in page.text


def test_it_shows_the_run_form_with_entries_and_inventories(
    client: TestClient[Litestar],
) -> None:
    page = client.get("/runs/new", params={"entry": "hello"})

    assert page.status_code == 200
    assert '<option value="playbook:hello" selected>' in page.text
    assert "inventory/hosts.yml" in page.text
    assert 'name="check"' in page.text


def test_it_keeps_the_form_values_when_extra_vars_are_malformed(
    client: TestClient[Litestar],
) -> None:
    form = _form(entry="playbook:hello", limit="localhost", tags="greet", extra_vars="a: [1,")
    page = client.post("/runs", data={**form, "check": "1"})

    assert page.status_code == 422
    assert "The run was not started." in page.text
    assert "Extra vars: not valid YAML or JSON at line 1" in page.text
    assert '<option value="playbook:hello" selected>' in page.text
    assert 'name="limit" value="localhost"' in page.text
    assert 'name="tags" value="greet"' in page.text
    assert ">a: [1,</textarea>" in page.text
    assert 'value="1" checked' in page.text
    assert _no_runs(client)


def test_it_says_which_extra_vars_line_is_wrong(client: TestClient[Litestar]) -> None:
    page = client.post("/runs", data=_form(entry="hello", extra_vars="a=1\n9x=2"))

    assert page.status_code == 422
    assert "Extra vars line 2" in page.text
    assert _no_runs(client)


def test_it_refuses_to_read_files_named_in_extra_vars(client: TestClient[Litestar]) -> None:
    page = client.post("/runs", data=_form(entry="hello", extra_vars="@/etc/passwd"))

    assert page.status_code == 422
    assert "cannot be read from the web form" in page.text
    assert "root:" not in page.text
    assert _no_runs(client)


def test_it_keeps_an_unknown_entry_in_the_form_and_says_so(
    client: TestClient[Litestar],
) -> None:
    page = client.post("/runs", data=_form(entry="no-such-playbook"))

    assert page.status_code == 400
    assert "no-such-playbook" in page.text
    assert '<option value="no-such-playbook" selected>' in page.text
    assert _no_runs(client)


def test_it_refuses_a_path_that_escapes_the_playbook_repo(client: TestClient[Litestar]) -> None:
    page = client.post("/runs", data=_form(entry="../../etc/passwd"))

    assert page.status_code == 400
    assert "The run was not started." in page.text
    assert "../../etc/passwd" in page.text
    assert _no_runs(client)


def test_it_escapes_html_typed_into_the_form(client: TestClient[Litestar]) -> None:
    evil = "<script>alert(1)</script>"
    page = client.post("/runs", data=_form(entry=evil, limit=evil, extra_vars=evil))

    assert page.status_code in (400, 422)
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert _no_runs(client)


def test_it_escapes_html_in_a_search(client: TestClient[Litestar]) -> None:
    page = client.get("/catalog", params={"q": "<img src=x onerror=alert(1)>"})

    assert "<img src=x" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text


def test_it_lists_no_runs_on_an_empty_database(client: TestClient[Litestar]) -> None:
    page = client.get("/runs")

    assert page.status_code == 200
    assert "No runs yet" in page.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {}),
        ("a=1\n9b=2", None),
        ('msg=hello world\nquoted="a b" c=3', {"msg": "hello world", "quoted": "a b", "c": "3"}),
        ("it=it's", {"it": "it's"}),
        ("a=1\n# comment\nb=2", {"a": "1", "b": "2"}),
        ("a=1 b=2", {"a": "1", "b": "2"}),
        ("portals:\n  - name: x\nretries: 3", {"portals": [{"name": "x"}], "retries": 3}),
        ('{"a": [1, 2]}', {"a": [1, 2]}),
    ],
)
def test_it_parses_form_extra_vars(text: str, expected: dict[str, Any] | None) -> None:
    if expected is None:
        with pytest.raises(ExtraVarsError, match="Extra vars line 2"):
            parse_form_vars(text)
    else:
        assert parse_form_vars(text) == expected


@pytest.mark.slow
def test_it_starts_a_run_from_the_form_and_shows_it(client: TestClient[Litestar]) -> None:
    started = client.post(
        "/runs", data=_form(entry="playbook:hello", extra_vars="greeting=Bonjour"),
        follow_redirects=False,
    )  # fmt: skip
    assert started.status_code == 303
    location = started.headers["location"]
    assert re.fullmatch(r"/runs/\d+", location)
    assert client.get(f"{location}/stream").status_code == 200  # returns when the run ends

    page = client.get(location)
    text = page.text
    assert page.status_code == 200
    assert "badge-succeeded" in text
    assert "Bonjour from localhost" in text
    assert '<span class="ansi-' in text  # ansible's colours, as classes
    for task in ("Greet", "Show the portals", "Run a harmless command"):
        assert task in text
    assert "Play recap" in text and "localhost" in text
    assert "audit-commit" in text
    assert "data-stream" not in text  # finished and fully shown: no live stream
    assert location in client.get("/runs").text
    assert location in client.get("/").text


@pytest.mark.slow
def test_it_cancels_a_run_from_its_page(client: TestClient[Litestar]) -> None:
    started = client.post("/runs", data=_form(entry="slow"), follow_redirects=False)
    location = started.headers["location"]
    page = client.get(location)
    assert 'hx-post="' + location + '/cancel"' in page.text
    assert "data-stream" in page.text

    cancelled = client.post(f"{location}/cancel", headers={"HX-Request": "true"})
    assert cancelled.status_code == 200
    assert "Cancelling" in cancelled.text
    client.get(f"{location}/stream")

    page = client.get(location)
    assert "badge-cancelled" in page.text
    assert 'hx-post="' + location + '/cancel"' not in page.text
    again = client.post(f"{location}/cancel", follow_redirects=False)
    assert again.status_code == 303
