"""Live view: ansible event to arrival in 50 browsers' SSE streams of one run.

A real ``chiffon serve`` process (temp data dir, temp playbook repo) runs a real playbook on
``localhost`` (local connection) that emits an event every few tens of milliseconds. Fifty
SSE clients read ``/runs/{id}/stream`` as a browser's ``EventSource`` would. The playbook's
first task waits for a gate file, created once every viewer is connected: the events created
before that (the play's start, the wait) reach the viewers from the database as a backlog and
are left out of the latency figures (``warm_up_events``), but not out of the completeness
check (ansible takes seconds to start, so the viewers are usually all there before its first
event and this is 0). Per event and viewer, the latency is its arrival at the viewer minus
the event's ``created_at`` (stamped by ansible's callback plugin, read back from
``GET /api/runs/{id}/events``); server, ansible and viewers share this machine's wall clock.
Every viewer must get every ``seq`` exactly once, in order. ``first_viewer_*`` is, per event,
the earliest of its 50 arrivals: the pipeline (ansible, ansible-runner, storing, publishing)
without the fan-out. The viewers are bare HTTP clients on one event loop (see ``Viewer``):
the same 50 streams read through httpx cost four times the CPU, and on this shared machine
that alone put about 80 ms on the median.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from tests._server import Server, server_env

from ._util import percentile

VIEWERS = 50
TICKS = 300  # loop items, one event each
TICK_PAUSE_S = 0.02
TARGET_P95_MS = 100.0

PLAYBOOK = f"""\
- name: Live view bench
  hosts: all
  gather_facts: false
  tasks:
    - name: Wait for the viewers
      ansible.builtin.wait_for:
        path: "{{{{ gate }}}}"
        timeout: 60
    - name: Tick
      ansible.builtin.debug:
        msg: "tick {{{{ item }}}}"
      loop: "{{{{ range({TICKS}) | list }}}}"
      loop_control:
        pause: {TICK_PAUSE_S}
"""


def write_repo(repo: Path) -> None:
    (repo / "inventory").mkdir(parents=True)
    (repo / "inventory" / "hosts.yml").write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        '      ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'
    )
    (repo / "live.yml").write_text(PLAYBOOK)


class Viewer(asyncio.Protocol):
    """One browser tab on a run's stream: the seqs of the ``log`` events it got and when.

    A bare HTTP/1.1 client on a socket, so that the 50 viewers (which share this machine's
    CPU with the server) cost as little as possible: it timestamps each read as it comes in,
    undoes the chunked transfer coding and splits the body into SSE messages.
    """

    def __init__(self, path: str, token: str) -> None:
        self.path = path
        self.auth = f"Authorization: Bearer {token}\r\n"
        self.seqs: list[int] = []
        self.arrived: list[float] = []
        self.connected = asyncio.Event()
        self.done = asyncio.get_running_loop().create_future()
        self._raw = b""
        self._body = b""
        self._headers_read = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(
            f"GET {self.path} HTTP/1.1\r\nHost: bench\r\n{self.auth}"
            "Accept: text/event-stream\r\n\r\n".encode()
        )

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self._raw += data
        if not self._headers_read:
            head, found, self._raw = self._raw.partition(b"\r\n\r\n")
            if not found:
                self._raw = head
                return
            status = head.split(b" ", 2)[1]
            assert status == b"200" and b"chunked" in head.lower(), head
            self._headers_read = True
            self.connected.set()
        while (line_end := self._raw.find(b"\r\n")) >= 0:
            size = int(self._raw[:line_end], 16)
            if len(self._raw) < line_end + 2 + size + 2:
                break  # the rest of this chunk is still on its way
            self._body += self._raw[line_end + 2 : line_end + 2 + size]
            self._raw = self._raw[line_end + 2 + size + 2 :]
        *messages, self._body = self._body.split(b"\r\n\r\n")
        for message in messages:
            self._message(message.decode(), now)

    def _message(self, message: str, now: float) -> None:
        fields = dict(line.partition(": ")[::2] for line in message.split("\r\n"))
        if fields.get("event") == "log":
            self.seqs.append(int(fields["id"]))
            self.arrived.append(now)
        elif fields.get("event") == "end" and not self.done.done():
            self.done.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(ConnectionError(f"stream closed before its end: {exc}"))


def _cpu_s(server: Server) -> float:
    """CPU seconds the server process used so far (its own, not ansible's)."""
    assert server.process is not None
    fields = Path(f"/proc/{server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _created(events: list[dict[str, Any]]) -> dict[int, float]:
    return {e["seq"]: dt.datetime.fromisoformat(e["created_at"]).timestamp() for e in events}


async def _measure(server: Server, gate: Path) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=VIEWERS + 5, max_keepalive_connections=VIEWERS + 5)
    async with httpx.AsyncClient(
        base_url=server.url, timeout=60, limits=limits, headers=server.headers
    ) as client:
        reply = await client.post(
            "/api/runs", json={"entry": "live.yml", "extra_vars": {"gate": str(gate)}}
        )
        assert reply.status_code == 201, reply.text
        run_id = reply.json()["id"]
        loop = asyncio.get_running_loop()
        assert server.token is not None
        viewers = [Viewer(f"/runs/{run_id}/stream", server.token) for _ in range(VIEWERS)]
        transports = [
            (await loop.create_connection(lambda v=v: v, "127.0.0.1", server.port))[0]
            for v in viewers
        ]
        await asyncio.wait_for(asyncio.gather(*(v.connected.wait() for v in viewers)), 30)
        opened = time.time()
        cpu_before, server_before = time.process_time(), _cpu_s(server)
        await asyncio.to_thread(gate.touch)
        await asyncio.wait_for(asyncio.gather(*(v.done for v in viewers)), 120)
        for transport in transports:
            transport.close()
        client_cpu_s = time.process_time() - cpu_before
        server_cpu_s = _cpu_s(server) - server_before
        run = (await client.get(f"/api/runs/{run_id}")).json()
        events = (await client.get(f"/api/runs/{run_id}/events?limit=5000")).json()
    created = _created(events)
    expected = sorted(created)
    latencies: list[float] = []
    first: dict[int, float] = {}  # per event, its earliest arrival: the pipeline without fan-out
    for viewer in viewers:
        for seq, arrived in zip(viewer.seqs, viewer.arrived, strict=True):
            if created.get(seq, 0.0) >= opened:
                latencies.append((arrived - created[seq]) * 1000)
                first[seq] = min(first.get(seq, arrived), arrived)
    earliest = [(first[seq] - created[seq]) * 1000 for seq in first]
    missing = sum(len(set(expected) - set(v.seqs)) for v in viewers)
    reordered = sum(
        sum(1 for a, b in zip(v.seqs, v.seqs[1:], strict=False) if b <= a) for v in viewers
    )
    measured = sum(1 for t in created.values() if t >= opened)
    span = max(created.values()) - opened if measured else 0.0
    p95 = percentile(latencies, 95) if latencies else float("inf")
    return {
        "viewers": VIEWERS,
        "run_status": run["status"],
        "events": len(expected),
        "warm_up_events": len(expected) - measured,
        "events_per_s": round(measured / span, 1) if span else None,
        "latency_ms_p50": round(percentile(latencies, 50), 1) if latencies else None,
        "latency_ms_p95": round(p95, 1),
        "latency_ms_max": round(max(latencies), 1) if latencies else None,
        "first_viewer_ms_p50": round(percentile(earliest, 50), 1) if earliest else None,
        "first_viewer_ms_p95": round(percentile(earliest, 95), 1) if earliest else None,
        "viewers_cpu_s": round(client_cpu_s, 2),
        "server_cpu_s": round(server_cpu_s, 2),
        "missing": missing,
        "reordered_or_duplicated": reordered,
        "complete_viewers": sum(1 for v in viewers if v.seqs == expected),
        "load_avg_1m": round(os.getloadavg()[0], 1),
        "target_p95_ms": TARGET_P95_MS,
        "ok": p95 <= TARGET_P95_MS and missing == 0 and reordered == 0 and bool(latencies),
    }


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        repo, data = Path(tmp) / "repo", Path(tmp) / "data"
        write_repo(repo)
        server = Server(server_env(data, repo))
        server.start()
        try:
            return asyncio.run(_measure(server, Path(tmp) / "go"))
        finally:
            server.stop()


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
