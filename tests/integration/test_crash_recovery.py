"""Kill a real `chiffon serve` in the middle of a run, start it again: nothing is lost."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chiffon.lib import proctree
from tests._server import Server, server_env

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path, db_url: str, sample_repo: Path) -> Iterator[Server]:
    server = Server(server_env(tmp_path / "data", sample_repo, db_url))
    yield server
    server.stop()


def test_it_marks_a_run_interrupted_after_a_crash_and_keeps_its_events(server: Server) -> None:
    server.start()
    run = server.post("/api/runs", {"entry": "slow.yml"})
    run_id, marker = run["id"], run["correlation_id"]
    deadline = time.monotonic() + 30
    events: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        events = server.get(f"/api/runs/{run_id}/events")
        if any(e["type"] == "runner_on_start" and e["task"] == "Sleep" for e in events):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the sleep task never started")

    server.kill()
    assert proctree.marked_processes("CHIFFON_RUN", marker), "ansible outlived it"
    server.start()

    run = server.get(f"/api/runs/{run_id}")
    assert run["status"] == "interrupted"
    assert "stopped" in run["error"]
    after = server.get(f"/api/runs/{run_id}/events")
    assert [e["seq"] for e in after[: len(events)]] == [e["seq"] for e in events]
    assert run["event_count"] == len(after) >= len(events)
    assert run["audit_commit"]
    assert proctree.marked_processes("CHIFFON_RUN", marker) == set()
