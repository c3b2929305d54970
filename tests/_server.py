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


ADMIN = "ada"
PASSWORD = "correct horse battery"


def chiffon_cli(environ: dict[str, str], *args: str, stdin: str = "") -> str:
    """Run ``chiffon ARGS`` as a person would; returns its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "chiffon", *args],
        env=environ,
        input=stdin.encode(),
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


class Server:
    """``chiffon serve`` with an admin account (``ADMIN``, ``PASSWORD``) and an API token
    that ``get`` and ``post`` send."""

    def __init__(self, environ: dict[str, str], admin: bool = True) -> None:
        self.environ = environ
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.token: str | None = None if admin else ""  # "": start without an account

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def create_admin(self) -> None:
        """The admin account and an API token, through the CLI (once per data dir)."""
        chiffon_cli(
            self.environ,
            "user",
            "add",
            ADMIN,
            "--role",
            "admin",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        self.token = chiffon_cli(self.environ, "token", "create", "--user", ADMIN).strip()

    def start(self) -> None:
        if self.token is None:
            self.create_admin()
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
        reply = httpx.get(self.url + path, timeout=5, headers=self.headers)
        reply.raise_for_status()
        return reply.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        reply = httpx.post(self.url + path, json=body, timeout=10, headers=self.headers)
        assert reply.status_code < 300, reply.text
        return reply.json()


def open_signed_in(page: Any, server: Server, path: str) -> None:
    """Open ``path`` in the browser as a person would: sent to the sign-in page first, signed
    in as the admin there, and brought back to ``path``."""
    page.goto(server.url + path)
    page.wait_for_url("**/login?next=**")
    page.fill("#login-name", ADMIN)
    page.fill("#login-password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server.url + path)
