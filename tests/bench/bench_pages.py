"""Pages: the chat, plan and run pages under 20 concurrent clients of a real server.

The data is seeded through the services before ``chiffon serve`` starts on it: a few hundred
plans made by the real planner from the bundled playbooks (the chat page shows the newest 20
of the person's), a few hundred finished runs, one of them with 1,000 events (the run page
renders them all), and the plan page is that of a plan of several steps awaiting approval (the
heaviest card: it resolves each step's variables and checks whether a step went stale).

Per page, 20 clients (one keep-alive connection each) first ask once all at once (the
warm-up: first render of a template, caches; reported apart), then ask ``PACED`` times each
with a person's pause before every request (``THINK_S``, random, so the clients drift apart):
twenty people using the pages at once, about 25 requests a second in all; these figures are
the ones checked against the target. Two more figures for context: ``alone_ms_p50``, one
client alone (the server's own time for the page), and ``no_think_*``, the 20 clients asking
again the moment they are answered (the server flat out: with one event loop, a request then
waits for the 19 others, so its latency is about 20 times the page's own time).
The clients are bare HTTP/1.1 on asyncio streams so that they take as little of this
machine's CPU from the server as possible; latency is from writing the request to reading
the whole body.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from chiffon.app import bootstrap
from chiffon.db import upgrade_database, utcnow
from chiffon.executor import RunStatus
from chiffon.executor.models import Run, RunEvent
from chiffon.settings import Settings
from tests._server import ADMIN, Server, server_env

from ._util import ROOT, percentile

CLIENTS = 20
THINK_S = (0.25, 1.25)  # a person's pause before each request: ~1.3 requests/s per client
PACED = 6  # requests per client and page, with pauses: the figures checked against the target
WARM_UP = 1  # requests per client and page first, all at once, reported apart
ALONE = 10  # one client alone: the server's own time for the page
CLOSED = 4  # requests per client and page without pauses: the server flat out
PLANS = 200
RUNS = 300
EVENTS = 1000
TARGET_P95_MS = 50.0
REQUESTS = [
    "say hello",
    "check disk usage on all hosts",
    "update the packages",
    "back up my dotfiles",
    "give me a system report",
    "deploy uptime kuma and add our portals to its config",
    "install docker and node exporter",
    "remove uptime kuma",
]
MULTI_STEP = "check disk usage, update the packages, then give me a system report"


def _run_row(n: int, **extra: Any) -> dict[str, Any]:
    started = utcnow() - dt.timedelta(hours=n)
    row: dict[str, Any] = {
        "correlation_id": f"{n:032x}",
        "entry_kind": "playbook",
        "entry_name": "hello-homelab",
        "entry_path": "hello-homelab.yml",
        "entry_hash": "0" * 64,
        "inventory": "inventory/hosts.yml",
        "status": RunStatus.SUCCEEDED if n % 7 else RunStatus.FAILED,
        "extra_vars": {},
        "host_stats": {"localhost": {"ok": 3, "changed": 1, "failures": 0, "dark": 0}},
        "requested_by": ADMIN,
        "started_at": started,
        "finished_at": started + dt.timedelta(seconds=4 + n % 30),
        "event_count": 0,
        "audit_commit": "0" * 40,  # as if audited: start-up would otherwise commit them all
    }
    row.update(extra)
    return row


def _event_rows(run_id: int, count: int) -> list[dict[str, Any]]:
    started = utcnow() - dt.timedelta(minutes=5)
    rows = []
    for seq in range(1, count + 1):
        task = f"Task {seq // 3}"
        kind = "playbook_on_task_start" if seq % 3 == 1 else "runner_on_ok"
        stdout = (
            f"\r\nTASK [{task}] {'*' * 60}"
            if kind == "playbook_on_task_start"
            else f'\x1b[0;32mok: [localhost] => {{\n    "msg": "step {seq}"\n}}\x1b[0m'
        )
        rows.append(
            {
                "run_id": run_id,
                "seq": seq,
                "type": kind,
                "host": None if kind == "playbook_on_task_start" else "localhost",
                "task": task,
                "stdout": stdout,
                "data": {"task_action": "ansible.builtin.debug", "task_path": f"site.yml:{seq}"},
                "created_at": started + dt.timedelta(milliseconds=seq * 50),
            }
        )
    return rows


async def seed(settings: Settings) -> dict[str, int]:
    """The data the pages show; returns the ids of the plan and the run to ask for."""
    await asyncio.to_thread(upgrade_database, settings.effective_database_url)
    services = bootstrap(settings)
    await services.start()
    try:
        for n in range(PLANS):
            await services.planner.submit(REQUESTS[n % len(REQUESTS)], ADMIN)
        plan = await services.planner.submit(MULTI_STEP, ADMIN)
        async with services.sessions() as session, session.begin():
            await session.execute(insert(Run), [_run_row(n) for n in range(1, RUNS)])
            run = Run(**_run_row(0, event_count=EVENTS))
            session.add(run)
            await session.flush()
            await session.execute(insert(RunEvent), _event_rows(run.id, EVENTS))
        return {"plan": plan.id, "plan_steps": len(plan.steps), "run": run.id}
    finally:
        await services.stop()


class Client:
    """One keep-alive HTTP/1.1 connection asking for pages, one at a time."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.auth = f"Authorization: Bearer {token}\r\n"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> float:
        """Milliseconds from writing the request to reading the whole 200 body."""
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self._reader is not None
        started = time.perf_counter()
        self._writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n{self.auth}\r\n".encode())
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1]
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await self._reader.readexactly(length)
        elapsed = (time.perf_counter() - started) * 1000
        assert status == b"200", f"{path} answered {status.decode()}"
        return elapsed

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()


async def _timed(client: Client, path: str, count: int, think: random.Random | None) -> list[float]:
    """``count`` requests one after the other, with a person's pause between them if
    ``think`` (and a first pause, so that the clients do not all start at once)."""
    latencies = []
    for _ in range(count):
        if think is not None:
            await asyncio.sleep(think.uniform(*THINK_S))
        latencies.append(await client.get(path))
    return latencies


async def _load(port: int, token: str, path: str) -> dict[str, Any]:
    clients = [Client(port, token) for _ in range(CLIENTS)]
    try:
        warm = await asyncio.gather(*(_timed(c, path, WARM_UP, None) for c in clients))
        alone = await _timed(clients[0], path, ALONE, None)
        thinkers = [random.Random(n) for n in range(CLIENTS)]
        paced = await asyncio.gather(
            *(_timed(c, path, PACED, t) for c, t in zip(clients, thinkers, strict=True))
        )
        started = time.perf_counter()
        closed = await asyncio.gather(*(_timed(c, path, CLOSED, None) for c in clients))
        closed_s = time.perf_counter() - started
    finally:
        for client in clients:
            await client.close()
    latencies = [ms for one in paced for ms in one]
    flat_out = [ms for one in closed for ms in one]
    warm_up = [ms for one in warm for ms in one]
    return {
        "requests": len(latencies),
        "ms_p50": round(percentile(latencies, 50), 1),
        "ms_p95": round(percentile(latencies, 95), 1),
        "ms_max": round(max(latencies), 1),
        "alone_ms_p50": round(percentile(alone, 50), 1),
        "no_think_ms_p50": round(percentile(flat_out, 50), 1),
        "no_think_ms_p95": round(percentile(flat_out, 95), 1),
        "no_think_per_s": round(len(flat_out) / closed_s, 1),
        "warm_up_requests": len(warm_up),
        "warm_up_ms_max": round(max(warm_up), 1),
        "ok": percentile(latencies, 95) <= TARGET_P95_MS,
    }


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        repo, data = Path(tmp) / "repo", Path(tmp) / "data"
        shutil.copytree(ROOT / "playbooks", repo)
        seeded = asyncio.run(seed(Settings(data_dir=data, playbooks_dir=repo)))
        server = Server(server_env(data, repo))
        server.start()
        try:
            pages = {
                "chat": "/chat",
                "plan": f"/plans/{seeded['plan']}",
                "run": f"/runs/{seeded['run']}",
            }
            assert server.token is not None
            figures = {
                name: asyncio.run(_load(server.port, server.token, path))
                for name, path in pages.items()
            }
        finally:
            server.stop()
    return {
        **figures,
        "clients": CLIENTS,
        "plans": PLANS + 1,
        "plan_steps": seeded["plan_steps"],
        "runs": RUNS,
        "run_events": EVENTS,
        "load_avg_1m": round(os.getloadavg()[0], 1),
        "target_p95_ms": TARGET_P95_MS,
        "ok": all(page["ok"] for page in figures.values()),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
