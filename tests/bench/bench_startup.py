"""Start-up: `chiffon serve` to /healthz 200, and idle RSS after start-up."""

from __future__ import annotations

import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from ._util import BIN, ROOT, env, free_port, rss_mb


def _wait_healthy(port: int, timeout: float = 30) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as reply:
                if reply.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.02)
    raise TimeoutError("chiffon serve did not answer /healthz")


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        environ = env(Path(tmp) / "data", CHIFFON_PLAYBOOKS_DIR=str(ROOT / "playbooks"))
        command = [str(BIN / "chiffon"), "serve", "--port", str(port)]
        started = time.perf_counter()
        server = subprocess.Popen(command, env=environ, stdout=subprocess.DEVNULL)
        try:
            _wait_healthy(port)
            startup = time.perf_counter() - started
            time.sleep(3)
            rss = rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(10)
    return {
        "startup_s": round(startup, 3),
        "target_startup_s": 3.0,
        "idle_rss_mb": round(rss, 1),
        "target_idle_rss_mb": 150,
        "ok": startup <= 3.0 and rss <= 150,
    }
