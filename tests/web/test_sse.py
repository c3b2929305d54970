"""The run's live log over SSE: every event once, in order; resume with Last-Event-ID."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from chiffon.app import create_app
from chiffon.settings import Settings
from tests._auth import set_up

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Message:
    event: str
    id: str | None
    data: str


def _parse(body: str) -> list[Message]:
    """Messages of an SSE body (comments and retry lines skipped), as a browser reads them."""
    messages = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        event, ident, data = "message", None, []
        for line in block.split("\n"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "id":
                ident = value
            elif name == "data":
                data.append(value)
        if data or ident is not None:
            messages.append(Message(event, ident, "\n".join(data)))
    return messages


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(settings)) as client:
        set_up(client)
        yield client


def _start(client: TestClient[Litestar], entry: str) -> int:
    response = client.post("/api/runs", json={"entry": entry})
    assert response.status_code == 201, response.text
    run_id: int = response.json()["id"]
    return run_id


def _log_ids(messages: list[Message]) -> list[int]:
    return [int(m.id) for m in messages if m.event == "log" and m.id is not None]


def test_it_streams_every_event_once_in_order_then_ends(client: TestClient[Litestar]) -> None:
    run_id = _start(client, "hello")
    response = client.get(f"/runs/{run_id}/stream")  # opened while the run is running

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    messages = _parse(response.text)
    run = client.get(f"/api/runs/{run_id}").json()
    stored = [event["seq"] for event in client.get(f"/api/runs/{run_id}/events").json()]
    assert _log_ids(messages) == stored == list(range(1, run["event_count"] + 1))
    assert messages[-1] == Message("end", None, "succeeded")
    assert messages[-2].event == "status"
    assert "badge-succeeded" in messages[-2].data
    assert "Play recap" in messages[-2].data
    assert "Run a harmless command" in messages[-2].data


def test_it_renders_the_log_as_escaped_html_with_colour_classes(
    client: TestClient[Litestar],
) -> None:
    run_id = _start(client, "hello")
    messages = _parse(client.get(f"/runs/{run_id}/stream").text)

    log = "\n".join(m.data for m in messages if m.event == "log")
    assert '<span class="ansi-' in log
    assert "\x1b" not in log
    assert "Hello from localhost" in log
    lines = [m for m in messages if m.event == "log" and m.data]
    assert all(m.data.startswith(f'<div class="ev" data-seq="{m.id}">') for m in lines)


def test_it_resumes_after_the_last_event_id(client: TestClient[Litestar]) -> None:
    run_id = _start(client, "hello")
    everything = _log_ids(_parse(client.get(f"/runs/{run_id}/stream").text))
    middle = everything[len(everything) // 2]

    resumed = _parse(
        client.get(f"/runs/{run_id}/stream", headers={"Last-Event-ID": str(middle)}).text
    )
    assert _log_ids(resumed) == [seq for seq in everything if seq > middle]
    assert resumed[-1].event == "end"
    by_query = _parse(client.get(f"/runs/{run_id}/stream", params={"after": middle}).text)
    assert _log_ids(by_query) == _log_ids(resumed)
    header_wins = _parse(
        client.get(
            f"/runs/{run_id}/stream",
            params={"after": 1},
            headers={"Last-Event-ID": str(everything[-1])},
        ).text
    )
    assert _log_ids(header_wins) == []
    assert header_wins[-1] == Message("end", None, "succeeded")


def test_it_streams_a_failed_run_to_its_end(client: TestClient[Litestar]) -> None:
    run_id = _start(client, "fail.yml")
    messages = _parse(client.get(f"/runs/{run_id}/stream").text)

    assert messages[-1] == Message("end", None, "failed")
    assert "This playbook fails on purpose" in "".join(m.data for m in messages)
    assert 'class="n o-failed"' in messages[-2].data


def test_it_answers_404_for_the_stream_of_an_unknown_run(client: TestClient[Litestar]) -> None:
    response = client.get("/runs/424242/stream")

    assert response.status_code == 404
    assert "Traceback" not in response.text


def test_it_puts_the_stream_on_an_active_run_page(client: TestClient[Litestar]) -> None:
    run_id = _start(client, "slow")
    page = client.get(f"/runs/{run_id}").text

    assert f'data-stream="/runs/{run_id}/stream"' in page
    assert "Live log disconnected — reconnecting…" in page
    assert '<script src="/static/chiffon.js"' in page
    client.post(f"/api/runs/{run_id}/cancel")
    assert _parse(client.get(f"/runs/{run_id}/stream").text)[-1].data == "cancelled"
