"""Event ingestion: synthetic ansible-runner events through store + bus + one SSE client.

A thread plays the runner: it hands events to the loop with ``call_soon_threadsafe`` exactly
as the executor's worker thread does. The events are stored in batches by the executor's
``EventWriter``, published on the bus, and read back by a real HTTP client from the run's SSE
stream served by uvicorn. The figure is events per second from the first event handed over to
the last one received by the client; the client checks that none is lost or reordered.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from chiffon.app import bootstrap, create_app
from chiffon.db import upgrade_database, utcnow
from chiffon.executor import RunFinished, RunStatus
from chiffon.executor._ingest import EventWriter
from chiffon.executor.models import Run
from chiffon.executor.runner import RunnerEvent
from chiffon.settings import Settings
from chiffon.web.accounts import Role

from ._util import ROOT, free_port

EVENTS = 20_000
TARGET = 5_000
_ID = re.compile(r"^id: ?(\d+)$", re.MULTILINE)


def _event(n: int) -> RunnerEvent:
    return RunnerEvent(
        seq=n,
        type="runner_on_ok",
        host="localhost",
        task=f"Task {n // 4}",
        stdout=f"\x1b[0;32mok: [localhost] => (item={n})\x1b[0m",
        data={"task_action": "ansible.builtin.debug", "task_path": f"site.yml:{n}"},
        created_at=dt.datetime.now(dt.UTC),
    )


async def _client(url: str, token: str, received: list[int], ready: asyncio.Event) -> float:
    async with (
        httpx.AsyncClient(timeout=60, headers={"Authorization": f"Bearer {token}"}) as client,
        client.stream("GET", url) as reply,
    ):
        ready.set()
        buffer = ""
        async for chunk in reply.aiter_text():
            buffer += chunk
            blocks = buffer.split("\r\n\r\n") if "\r\n\r\n" in buffer else buffer.split("\n\n")
            buffer = blocks.pop()
            for block in blocks:
                block = block.replace("\r\n", "\n")
                found = _ID.search(block)
                if found and "event: log" in block:
                    received.append(int(found.group(1)))
                if "event: end" in block:
                    return time.perf_counter()
    return time.perf_counter()


async def _measure(tmp: Path) -> dict[str, Any]:
    settings = Settings(data_dir=tmp / "data", playbooks_dir=ROOT / "playbooks")
    upgrade_database(settings.effective_database_url)
    services = bootstrap(settings)
    await services.start(scan=False)
    app = create_app(settings, services=services)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="error", lifespan="off"))
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    async with services.sessions() as session, session.begin():
        run = Run(
            correlation_id="b" * 32, entry_kind="playbook", entry_name="bench",
            entry_path="bench.yml", entry_hash="0" * 64, inventory="inventory",
            status=RunStatus.RUNNING, extra_vars={}, host_stats={}, started_at=utcnow(),
        )  # fmt: skip
        session.add(run)
    admin = await services.accounts.add_user("bench", Role.ADMIN, "bench-password")
    token, _ = await services.accounts.create_token(admin.name, "bench")
    writer = EventWriter(services.sessions, services.bus, run.id, run.correlation_id, [])
    writer.start()
    received: list[int] = []
    ready = asyncio.Event()
    client = asyncio.create_task(
        _client(f"http://127.0.0.1:{port}/runs/{run.id}/stream", token, received, ready)
    )
    await ready.wait()
    await asyncio.sleep(0.2)
    loop = asyncio.get_running_loop()
    events = [_event(n) for n in range(1, EVENTS + 1)]

    def produce() -> None:
        for event in events:
            loop.call_soon_threadsafe(writer.put, event)

    started = time.perf_counter()
    producer = threading.Thread(target=produce)
    producer.start()
    await asyncio.to_thread(producer.join)
    await writer.close()
    stored_at = time.perf_counter()
    async with services.sessions() as session, session.begin():
        row = await session.get_one(Run, run.id)
        row.status, row.finished_at, row.event_count = RunStatus.SUCCEEDED, utcnow(), writer.count
    await services.bus.publish(RunFinished(run.id, "succeeded", 0, run.correlation_id))
    finished = await asyncio.wait_for(client, 120)
    server.should_exit = True
    await serving
    await services.stop()
    elapsed = finished - started
    in_order = received == list(range(1, EVENTS + 1))
    rate = EVENTS / elapsed
    return {
        "events": EVENTS,
        "stored_and_published_per_s": round(EVENTS / (stored_at - started)),
        "end_to_end_per_s": round(rate),
        "received": len(received),
        "lost": EVENTS - len(set(received)),
        "in_order": in_order,
        "target_per_s": TARGET,
        "database": "sqlite",
        "ok": rate >= TARGET and in_order,
    }


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(_measure(Path(tmp)))
