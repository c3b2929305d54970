"""The one file that talks to an OpenAI-compatible chat endpoint (the ``openai`` SDK).

``ChatClient`` never raises for what a provider does wrong: a timeout, an HTTP error, a refused
connection or an answer that is not a JSON object all come back as a ``ChatReply`` whose
``outcome`` says so, so the caller can fall through to the next provider.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import openai

from ._chat import ChatReply, ChatRequest

# Enough for a plan of a dozen steps; a model that rambles past it has failed anyway.
MAX_COMPLETION_TOKENS = 1_500


class ChatClient:
    """Chat completions, keeping one SDK client per endpoint: building one (its HTTP pool and
    TLS context) costs tens of milliseconds, more than a local model's short answer."""

    def __init__(self) -> None:
        self._clients: dict[tuple[str, str, float], openai.AsyncOpenAI] = {}

    async def __call__(self, request: ChatRequest) -> ChatReply:
        key = (request.base_url, request.api_key, request.timeout_s)
        client = self._clients.get(key)
        if client is None:
            client = openai.AsyncOpenAI(
                base_url=request.base_url,
                api_key=request.api_key,
                timeout=request.timeout_s,
                max_retries=0,  # falling through to the next provider is the retry
            )
            self._clients[key] = client
        return await chat(client, request)

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.close()


async def chat(client: openai.AsyncOpenAI, request: ChatRequest) -> ChatReply:
    """One chat completion asking for a JSON object; never raises for provider failures."""
    started = time.perf_counter()

    def reply(outcome: str, detail: str | None, text: str = "", usage: Any = None) -> ChatReply:
        data = None
        if outcome == "ok":
            try:
                data = json.loads(_unfenced(text))
            except ValueError as error:
                outcome, detail = "invalid_json", f"the answer is not JSON: {error}"
            if outcome == "ok" and not isinstance(data, dict):
                outcome, detail, data = "invalid_json", "the answer is not a JSON object", None
        return ChatReply(
            outcome=outcome,
            data=data,
            text=text,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            latency_ms=round((time.perf_counter() - started) * 1000),
            detail=detail,
        )

    messages: Any = list(request.messages)  # the SDK types each role's dict separately
    try:
        # The SDK's timeout bounds each read; a server that trickles bytes gets a deadline.
        async with asyncio.timeout(request.timeout_s):
            completion = await client.chat.completions.create(
                model=request.model,
                messages=messages,
                response_format={"type": "json_object"},
                temperature=0,
                max_tokens=MAX_COMPLETION_TOKENS,
            )
    except (openai.APITimeoutError, TimeoutError):
        return reply("timeout", f"no answer within {request.timeout_s:g} s")
    except openai.APIStatusError as error:
        return reply("http_error", f"HTTP {error.status_code}: {_short(error.message)}")
    except openai.APIConnectionError as error:
        return reply("http_error", f"cannot connect: {_short(str(error))}")
    except openai.APIError as error:  # a body the SDK cannot read
        return reply("http_error", _short(str(error)))
    choices = completion.choices or []
    text = (choices[0].message.content or "") if choices else ""
    return reply("ok", None, text, completion.usage)


def _unfenced(text: str) -> str:
    """Small models wrap JSON in a Markdown fence even when asked for JSON only."""
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[-1] if "\n" in stripped else ""
        stripped = stripped.rsplit("```", 1)[0]
    return stripped


def _short(text: str) -> str:
    return " ".join(text.split())[:300]
