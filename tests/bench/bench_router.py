"""Router: 500 agents heartbeating every 30 s against a real `chiffon serve`, and an agent's RSS.

500 agent tokens are created in the server's database. A warm-up round sends one heartbeat per
agent as fast as 8 client threads can (every agent is then online, as in steady state, and the
figure doubles as the server's heartbeat throughput). The measured round is one real 30-s
period: 500 heartbeats evenly spread over 30 s, each on a new HTTP connection as a real agent
sends it. Figures: per-request latency (client-side, send to answer) and the server process's
CPU time during the period, as a share of one core. Then a real `chiffon agent` process
heartbeats to the same server and its resident memory is read once it is idle between beats.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from chiffon.app import bootstrap
from chiffon.db import upgrade_database
from chiffon.settings import Settings

from ._util import BIN, ROOT, env, free_port, median, percentile, rss_mb
from .bench_startup import _wait_healthy

AGENTS = 500
PERIOD_S = 30.0
TARGET_P95_MS = 20.0
TARGET_CPU_PERCENT = 5.0
TARGET_AGENT_RSS_MB = 60.0


def _body(n: int) -> bytes:
    return json.dumps(
        {
            "protocol": "1.0",
            "labels": ["docker"] if n % 2 else ["gpu", "docker"],
            "sent_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
            "resources": {
                "cpu": {"percent": n % 100, "cores_total": 8,
                        "cores_free": 8 * (1 - n % 100 / 100)},
                "memory": {"total_mb": 32_000, "available_mb": 16_000 + n},
                "disk": {"path": "/", "total_mb": 500_000, "free_mb": 250_000},
                "gpus": [
                    {"index": 0, "name": "RTX 4090", "vram_total_mb": 24_564,
                     "vram_free_mb": 20_000 - n, "utilization_percent": n % 100},
                ] if n % 2 == 0 else [],
            },
        }
    ).encode()  # fmt: skip


def _beat(port: int, token: str, body: bytes) -> tuple[float, int]:
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST",
            "/api/agents/heartbeat",
            body=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        reply = connection.getresponse()
        reply.read()
        return time.perf_counter() - started, reply.status
    finally:
        connection.close()


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _tokens(settings: Settings) -> list[str]:
    services = bootstrap(settings)
    try:
        return [await services.agents.create_token(f"agent-{n:03d}") for n in range(AGENTS)]
    finally:
        await services.engine.dispose()


def _paced_round(port: int, tokens: list[str]) -> list[tuple[float, int]]:
    gap = PERIOD_S / len(tokens)
    results: list[tuple[float, int]] = []
    lock = threading.Lock()
    start = time.perf_counter()

    def one(n: int) -> None:
        delay = start + n * gap - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        outcome = _beat(port, tokens[n], _body(n))
        with lock:
            results.append(outcome)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(one, range(len(tokens))))
    return results


def _agent_rss(port: int, token: str, environ: dict[str, str]) -> dict[str, float]:
    agent = subprocess.Popen(
        [str(BIN / "chiffon"), "agent", "--server", f"http://127.0.0.1:{port}",
         "--token", token, "--interval", "2"],
        env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        samples = []
        for _ in range(8):  # 4 heartbeats' worth, sampled between beats
            time.sleep(1)
            samples.append(rss_mb(agent.pid))
        return {"idle_rss_mb": round(samples[-1], 1), "max_rss_mb": round(max(samples), 1)}
    finally:
        agent.terminate()
        agent.wait(10)


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        settings = Settings(data_dir=data, playbooks_dir=ROOT / "playbooks")
        upgrade_database(settings.effective_database_url)
        tokens = asyncio.run(_tokens(settings))
        agent_token = tokens.pop()
        port = free_port()
        environ = env(data, CHIFFON_PLAYBOOKS_DIR=str(ROOT / "playbooks"))
        server = subprocess.Popen(
            [str(BIN / "chiffon"), "serve", "--port", str(port)],
            env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            _wait_healthy(port)
            warm_start = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                warm = list(
                    pool.map(lambda n: _beat(port, tokens[n], _body(n)), range(len(tokens)))
                )
            warm_s = time.perf_counter() - warm_start
            time.sleep(2)
            cpu_before = _cpu_s(server.pid)
            measured = _paced_round(port, tokens)
            cpu_s = _cpu_s(server.pid) - cpu_before
            agent = _agent_rss(port, agent_token, environ)
        finally:
            server.terminate()
            server.wait(15)
    latencies_ms = [seconds * 1000 for seconds, _ in measured]
    failures = sum(status != 200 for _, status in [*warm, *measured])
    p95 = percentile(latencies_ms, 95)
    cpu_percent = 100 * cpu_s / PERIOD_S
    return {
        "agents": len(tokens),
        "period_s": PERIOD_S,
        "heartbeats_measured": len(measured),
        "failed_requests": failures,
        "ingest_p50_ms": round(median(latencies_ms), 2),
        "ingest_p95_ms": round(p95, 2),
        "ingest_p99_ms": round(percentile(latencies_ms, 99), 2),
        "target_p95_ms": TARGET_P95_MS,
        "server_cpu_s_per_period": round(cpu_s, 3),
        "server_cpu_percent_of_one_core": round(cpu_percent, 2),
        "target_cpu_percent": TARGET_CPU_PERCENT,
        "burst_heartbeats_per_s": round(len(warm) / warm_s),
        "agent_idle_rss_mb": agent["idle_rss_mb"],
        "agent_max_rss_mb": agent["max_rss_mb"],
        "target_agent_rss_mb": TARGET_AGENT_RSS_MB,
        "database": "sqlite",
        # Latency on a machine shared with other work is mostly waiting for a core.
        "host_load_avg_1m": round(os.getloadavg()[0], 1),
        "host_cores": os.cpu_count(),
        "ok": failures == 0
        and p95 <= TARGET_P95_MS
        and cpu_percent <= TARGET_CPU_PERCENT
        and agent["max_rss_mb"] <= TARGET_AGENT_RSS_MB,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
