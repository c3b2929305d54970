"""Real `chiffon agent` processes heartbeating over HTTP to a real `chiffon serve`."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests._server import Server, server_env
from tests.bench._util import rss_mb
from tests.conftest import SAMPLE_REPO

pytestmark = pytest.mark.slow

AGENT_RSS_LIMIT_MB = 60


def _chiffon(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chiffon", *args],
        env=environ, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _wait(what: str, check: Callable[[], Any], timeout_s: float = 20) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    environ = server_env(tmp_path / "data", SAMPLE_REPO)
    environ.update(CHIFFON_AGENT_OFFLINE_SECONDS="4", CHIFFON_LOCAL_AGENT_HOST="")
    return environ


class Agents:
    def __init__(self, environ: dict[str, str], tmp_path: Path) -> None:
        self.environ = environ
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen[str]] = []

    def token(self, name: str, *extra: str) -> str:
        made = _chiffon(self.environ, "agent-token", "create", name, *extra)
        assert made.returncode == 0, made.stderr
        return made.stdout.strip()

    def start(self, url: str, token: str, *extra: str) -> subprocess.Popen[str]:
        token_file = self.tmp_path / f"token-{len(self.processes)}"
        token_file.write_text(token + "\n")
        process = subprocess.Popen(
            [sys.executable, "-m", "chiffon", "agent", "--server", url,
             "--token-file", str(token_file), "--interval", "1", *extra],
            env=self.environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=10)


@pytest.fixture
def agents(environ: dict[str, str], tmp_path: Path) -> Iterator[Agents]:
    agents = Agents(environ, tmp_path)
    yield agents
    agents.stop_all()


def _by_name(server: Server) -> dict[str, Any]:
    return {agent["name"]: agent for agent in server.get("/api/agents")}


def test_it_follows_real_agents_online_and_offline(environ: dict[str, str], agents: Agents) -> None:
    gpu_token = agents.token("gpu-box", "--host", "gpu.lan")
    nas_token = agents.token("nas")
    server = Server(environ)
    server.start()
    try:
        gpu_box = agents.start(server.url, gpu_token, "--labels", "gpu,docker", "--name", "gpu-box")
        nas = agents.start(server.url, nas_token)

        listed = _wait(
            "two agents with history",
            lambda: (
                (found := _by_name(server))
                and all(a["status"] == "online" for a in found.values())
                and len(found) == 2
                and all(
                    len(server.get(f"/api/agents/{a['id']}")["history"]) >= 2
                    for a in found.values()
                )
                and found
            ),
        )
        assert listed["gpu-box"]["labels"] == ["docker", "gpu"]
        assert listed["gpu-box"]["inventory_host"] == "gpu.lan"
        assert listed["nas"]["resources"]["gpus"] == []  # no GPU on this machine
        assert abs(listed["nas"]["clock_skew_s"]) < 5
        rss = rss_mb(nas.pid)
        assert rss <= AGENT_RSS_LIMIT_MB, f"agent RSS {rss:.1f} MB"

        nas.send_signal(signal.SIGTERM)
        assert nas.wait(10) == 0  # a clean stop
        _wait("nas offline", lambda: _by_name(server)["nas"]["status"] == "offline", 15)
        assert _by_name(server)["gpu-box"]["status"] == "online"

        revoked = _chiffon(environ, "agent-token", "revoke", "gpu-box")
        assert revoked.returncode == 0, revoked.stderr
        assert gpu_box.wait(10) == 2  # the server refuses it: retrying cannot help
        assert "401" in gpu_box.communicate()[1]
        listing = _chiffon(environ, "agents", "--json")
        assert listing.returncode == 0 and '"status": "revoked"' in listing.stdout
    finally:
        server.stop()


def test_it_keeps_an_agent_retrying_while_the_server_is_down(
    environ: dict[str, str], agents: Agents
) -> None:
    token = agents.token("patient")
    server = Server(environ)  # its port is chosen, nothing listens there yet
    agent = agents.start(server.url, token)
    time.sleep(3)
    assert agent.poll() is None, agent.communicate()[1]

    server.start()
    try:
        _wait("the agent online", lambda: _by_name(server).get("patient", {}).get("online"))
        server.kill()  # a crash: connections reset mid-way
        time.sleep(2)
        assert agent.poll() is None
        server.start()
        before = len(server.get("/api/agents/1")["history"])
        _wait("more heartbeats", lambda: len(server.get("/api/agents/1")["history"]) > before)
    finally:
        server.stop()
    agent.send_signal(signal.SIGTERM)
    assert agent.wait(10) == 0
    errors = agent.communicate()[1]
    assert "retrying in" in errors and "Traceback" not in errors


def test_it_refuses_a_bad_agent_command_line(environ: dict[str, str]) -> None:
    once = _chiffon(environ, "agent", "--server", "http://127.0.0.1:9", "--token", "x", "--once")
    bad = _chiffon(environ, "agent", "--server", "u", "--token", "x", "--labels", "Bad Label")

    assert once.returncode == 1 and "heartbeat failed" in once.stderr
    assert bad.returncode == 2 and "is not a label" in bad.stderr
