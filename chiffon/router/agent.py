"""``chiffon agent``: report this machine's resources to a Chiffon server every 30 s.

It imports only the standard library, psutil and NVML (through ``probes``): no web framework,
no database, no ansible, so that it idles in a few tens of MB. A network error or a server
error is retried with backoff and never stops it; a refused token (401) or protocol (409) does,
with the server's message, because retrying cannot fix either.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import random
import signal
import socket
import sys
import threading
from dataclasses import dataclass
from typing import Any

from chiffon import __version__

from ._agent_args import add_agent_arguments
from .probes import GpuReader, open_gpu_reader, prime_cpu_percent, probe_resources
from .protocol import Heartbeat

__all__ = ["add_agent_arguments", "main", "run_agent"]

log = logging.getLogger("chiffon.agent")

HEARTBEAT_PATH = "/api/agents/heartbeat"
FIRST_RETRY_S = 1.0
CPU_SAMPLE_S = 0.5  # the first CPU figure needs an interval since priming


class AgentStopped(Exception):
    """The server refused this agent for good (bad token, unknown protocol)."""


@dataclass(frozen=True)
class _Answer:
    status: int  # 0: no answer (network error)
    body: dict[str, Any]
    retry_after_s: float | None = None


def _post(url: str, token: str, payload: bytes, timeout_s: float) -> _Answer:
    import urllib.request  # here: the CLI imports this module, and only the agent posts

    request = urllib.request.Request(
        url,
        data=payload,
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as reply:
            return _Answer(reply.status, _json(reply.read()))
    except urllib.error.HTTPError as error:
        retry = error.headers.get("Retry-After") if error.headers else None
        body = _json(error.read())
        return _Answer(error.code, body, float(retry) if retry and retry.isdigit() else None)
    except (OSError, ValueError) as error:  # refused, reset, DNS, timeout, bad URL pieces
        return _Answer(0, {"error": str(error)})


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class Agent:
    def __init__(self, args: argparse.Namespace, token: str, gpus: GpuReader) -> None:
        self._args = args
        self._token = token
        self._gpus = gpus
        self._url = args.server.rstrip("/") + HEARTBEAT_PATH
        self.stopping = threading.Event()

    def _payload(self) -> bytes:
        heartbeat = Heartbeat(
            resources=probe_resources(self._gpus, self._args.disk),
            name=self._args.name,
            inventory_host=self._args.inventory_host,
            labels=tuple(self._args.labels) if self._args.labels is not None else None,
            sent_at=dt.datetime.now(dt.UTC),
            agent_version=__version__,
        )
        return json.dumps(heartbeat.to_json()).encode()

    def beat(self) -> _Answer:
        """Send one heartbeat; raise ``AgentStopped`` when the server refuses this agent."""
        answer = _post(self._url, self._token, self._payload(), self._args.interval)
        if answer.status in (401, 409):
            raise AgentStopped(f"the server refused this agent ({answer.status}): "
                               + str(answer.body.get("error", "no reason given")))  # fmt: skip
        return answer

    def run(self) -> None:
        """Heartbeat until stopped; failures wait 1, 2, 4... s (capped), then the interval."""
        interval = self._args.interval
        failures = 0
        while not self.stopping.is_set():
            answer = self.beat()
            if 200 <= answer.status < 300:
                if failures:
                    log.warning("heartbeats reach %s again", self._args.server)
                failures = 0
                wait = interval
            else:
                failures += 1
                cap = max(2 * interval, 60.0)
                wait = min(cap, FIRST_RETRY_S * 2 ** (failures - 1))
                wait = max(wait, answer.retry_after_s or 0) * random.uniform(0.9, 1.1)
                problem = answer.body.get("error") or f"HTTP {answer.status}"
                # One line per failure, no traceback: a server down for a night is not news.
                log.warning("heartbeat failed (%s); retrying in %.1f s", problem, wait)
            self.stopping.wait(wait)


def _read_token(args: argparse.Namespace) -> str:
    if args.token:
        return str(args.token)
    try:
        return str(args.token_file.read_text().strip())
    except OSError as error:
        raise AgentStopped(f"cannot read the token file {args.token_file}: {error}") from None


def run_agent(args: argparse.Namespace) -> int:
    """Run the agent as parsed by ``add_agent_arguments``; the process's exit code."""
    try:
        token = _read_token(args)
        gpus = open_gpu_reader()
        prime_cpu_percent()
        agent = Agent(args, token, gpus)
        agent.stopping.wait(CPU_SAMPLE_S)
        if args.once:
            answer = agent.beat()
            if not 200 <= answer.status < 300:
                print(
                    f"chiffon agent: heartbeat failed: {answer.body.get('error')}", file=sys.stderr
                )
                return 1
            print(json.dumps(answer.body))
            return 0
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: agent.stopping.set())
        log.warning(
            "chiffon agent %s reporting to %s every %.0f s",
            args.name or socket.gethostname(), args.server, args.interval,
        )  # fmt: skip
        agent.run()
        gpus.close()
        return 0
    except AgentStopped as error:
        print(f"chiffon agent: {error}", file=sys.stderr)
        return 2


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="chiffon agent", description="Report this machine's resources to a Chiffon server."
    )
    add_agent_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    return run_agent(args)
