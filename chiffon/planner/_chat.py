"""What goes to and comes back from an OpenAI-compatible chat endpoint.

Apart from ``llm.py`` (the ``openai`` SDK's adapter) so that the provider chain, and every
command that imports the planner, can name these without importing the SDK: it costs about
0.4 s of CPU, more than a third of ``chiffon run``'s own start-up, with no LLM configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ChatRequest:
    base_url: str
    api_key: str
    model: str
    messages: tuple[dict[str, str], ...]
    timeout_s: float


@dataclass(frozen=True)
class ChatReply:
    """``outcome`` is ok, timeout, http_error or invalid_json; ``data`` is the parsed JSON
    object when ok. ``text`` is the raw answer (kept for a retry that quotes it)."""

    outcome: str
    data: dict[str, Any] | None
    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: int
    detail: str | None = None
