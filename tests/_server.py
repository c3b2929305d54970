"""A real `chiffon serve` subprocess for tests that need a live server (crash, browser)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.bench._util import free_port


def server_env(data_dir: Path, playbooks: Path, db_url: str | None = None) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CHIFFON_")}
    environ.update(CHIFFON_DATA_DIR=str(data_dir), CHIFFON_PLAYBOOKS_DIR=str(playbooks))
    if db_url:
        environ["CHIFFON_DATABASE_URL"] = db_url
    return environ


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

    def post(self, path: str, body: dict[str, Any]) -> Any:
        reply = httpx.post(self.url + path, json=body, timeout=10)
        assert reply.status_code < 300, reply.text
        return reply.json()
