"""Kill a real `chiffon serve` in the middle of a run, start it again: nothing is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chiffon.lib import proctree
from tests.bench._util import free_port

pytestmark = pytest.mark.slow


class Server:
    def __init__(self, environ: dict[str, str]) -> None:
        self.environ = environ
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-m", "chiffon", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(command, env=self.environ, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "chiffon serve exited during start-up"
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise TimeoutError("chiffon serve did not become healthy")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(15)

    def get(self, path: str) -> Any:
        reply = httpx.get(self.url + path, timeout=5)
        reply.raise_for_status()
        return reply.json()


@pytest.fixture
def server(tmp_path: Path, db_url: str, sample_repo: Path) -> Iterator[Server]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CHIFFON_")}
    environ.update(
        CHIFFON_DATA_DIR=str(tmp_path / "data"),
        CHIFFON_DATABASE_URL=db_url,
        CHIFFON_PLAYBOOKS_DIR=str(sample_repo),
    )
    server = Server(environ)
    yield server
    server.stop()


def test_it_marks_a_run_interrupted_after_a_crash_and_keeps_its_events(server: Server) -> None:
    server.start()
    reply = httpx.post(server.url + "/api/runs", json={"entry": "slow.yml"}, timeout=10)
    assert reply.status_code == 201, reply.text
    run_id, marker = reply.json()["id"], reply.json()["correlation_id"]
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
