"""A real OpenAI-compatible HTTP server for tests: POST /v1/chat/completions on 127.0.0.1.

Each server plays a script: a list of behaviours taken one per request (the last repeats).
A behaviour is a callable given the parsed request body, returning what to do:
``Reply(content)`` (a completion whose message is ``content``), ``Status(500)``, or
``Stall(seconds)`` (answer only after that long: a slow provider). Every request body is kept
in ``requests`` so a test can read what the planner sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    content: str
    prompt_tokens: int = 100
    completion_tokens: int = 20


@dataclass(frozen=True)
class Status:
    code: int


@dataclass(frozen=True)
class Stall:
    seconds: float


Behaviour = Callable[[dict[str, Any]], Reply | Status | Stall]


def offered(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps the planner offered, parsed from the user message of a request body."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return list(json.loads(user[user.index("{") :])["steps"])


def answer(steps: list[dict[str, Any]]) -> str:
    return json.dumps({"steps": steps})


def pick_first(body: dict[str, Any]) -> Reply:
    """An obedient model: each step's first candidate, no variables."""
    steps = offered(body)
    return Reply(
        answer(
            [
                {
                    "step": s["step"],
                    "entry": s["candidates"][0]["id"] if s["candidates"] else None,
                    "vars": {},
                }
                for s in steps
            ]
        )
    )


class FakeLlm:
    def __init__(self, script: list[Behaviour]) -> None:
        self.script = list(script)
        self.requests: list[dict[str, Any]] = []
        self._released = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                fake.requests.append(body)
                if self.path != "/v1/chat/completions":
                    self._send(404, {"error": {"message": "not found"}})
                    return
                step = fake.script[min(len(fake.requests), len(fake.script)) - 1]
                action = step(body)
                if isinstance(action, Stall):
                    fake._released.wait(action.seconds)
                    action = pick_first(body)
                if isinstance(action, Status):
                    self._send(action.code, {"error": {"message": "scripted failure"}})
                    return
                self._send(200, _completion(body, action))

            def _send(self, code: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._released.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def _completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "fake"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
    }


@contextmanager
def fake_llm(*script: Behaviour) -> Iterator[FakeLlm]:
    server = FakeLlm(list(script))
    server.start()
    try:
        yield server
    finally:
        server.stop()
