"""Asking LLM providers in priority order to choose among the deterministic plan's candidates
(and to explain a failed run in more words).

A provider with less than 20% of its quota left in the window is skipped (a ``quota_skip``
row); a timeout, an HTTP error or a refused connection falls through to the next; an answer
that is not JSON or does not fit the schema gets one retry that states the error, then falls
through. When every provider fails the deterministic plan stands. Every call is a row in
``llm_usage`` written as it happens, so the quota counts retries and failures too.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import func, select

from chiffon.db import SessionFactory, utcnow
from chiffon.planner._chat import ChatReply, ChatRequest
from chiffon.planner._choice import (
    ChoiceError,
    check_answer,
    chosen_plan,
    offers_for,
    prompt,
    retry_prompt,
    with_usage,
)
from chiffon.planner._explain import ExplanationError, check_explanation, explanation_prompt
from chiffon.planner._plan import LlmCall, Plan
from chiffon.planner.models import LlmUsage
from chiffon.settings import LlmProvider

log = logging.getLogger("chiffon.planner")

QUOTA_FLOOR = 0.2  # below this share of its quota left, a provider is skipped


class Chat(Protocol):
    """What ``llm.ChatClient`` offers: one completion per call, and closing its connections."""

    async def __call__(self, request: ChatRequest) -> ChatReply: ...

    async def close(self) -> None: ...


class LlmPlanner:
    """Refines a deterministic plan with the first provider that gives a valid answer."""

    def __init__(
        self, sessions: SessionFactory, providers: Sequence[LlmProvider], chat: Chat
    ) -> None:
        self._sessions = sessions
        self._providers = tuple(providers)
        self._chat = chat

    @property
    def providers(self) -> tuple[LlmProvider, ...]:
        return self._providers

    async def close(self) -> None:
        await self._chat.close()

    async def refine(self, plan: Plan, correlation_id: str) -> Plan:
        """The plan as the first willing provider chose it (``planner`` = ``llm:<name>``), or
        ``plan`` itself when there is nothing to choose or every provider failed; either way
        with the calls made in ``usage``."""
        offers = offers_for(plan)
        if not any(offer.candidates for offer in offers):
            return plan  # nothing in the catalog comes close: no choice to ask about
        first = prompt(plan.request, offers)
        calls: list[LlmCall] = []
        for provider in self._providers:
            if not await self._willing(provider, correlation_id, calls):
                continue
            messages = first
            for attempt in (1, 2):
                reply = await self._ask(provider, messages)
                outcome: str = reply.outcome
                detail: str | None = reply.detail
                if outcome == "ok":
                    try:
                        choices = check_answer(reply.data, offers)
                    except ChoiceError as error:
                        outcome, detail = "schema_error", str(error)
                await self._record(provider, correlation_id, calls, outcome, reply, detail)
                if outcome == "ok":
                    chosen = chosen_plan(plan, choices, f"llm:{provider.name}")
                    return with_usage(chosen, calls)
                if outcome not in ("invalid_json", "schema_error") or attempt == 2:
                    break
                messages = retry_prompt(first, reply.text, detail or outcome)
        return with_usage(plan, calls)

    async def explain(self, facts: dict[str, Any], correlation_id: str) -> str | None:
        """A paragraph on a failure, from ``facts`` (what Chiffon established), by the first
        willing provider whose answer fits; None when every provider fails. The calls are
        recorded and count against the quotas like a plan's."""
        messages = explanation_prompt(facts)
        calls: list[LlmCall] = []
        for provider in self._providers:
            if not await self._willing(provider, correlation_id, calls):
                continue
            reply = await self._ask(provider, messages)
            outcome, detail, text = reply.outcome, reply.detail, None
            if outcome == "ok":
                try:
                    text = check_explanation(reply.data)
                except ExplanationError as error:
                    outcome, detail = "schema_error", str(error)
            await self._record(provider, correlation_id, calls, outcome, reply, detail)
            if text is not None:
                return text
        return None

    async def _willing(
        self, provider: LlmProvider, correlation_id: str, calls: list[LlmCall]
    ) -> bool:
        """Whether ``provider`` has a fifth of its quota left (a skip is recorded)."""
        left = await self.quota_left(provider)
        if left is not None and left < QUOTA_FLOOR:
            skipped = f"{left:.0%} of the quota left (skipped below {QUOTA_FLOOR:.0%})"
            await self._record(provider, correlation_id, calls, "quota_skip", None, skipped)
            return False
        return True

    async def _ask(self, provider: LlmProvider, messages: tuple[dict[str, str], ...]) -> ChatReply:
        request = ChatRequest(
            provider.base_url, provider.api_key, provider.model, messages, provider.timeout_s
        )
        try:
            return await self._chat(request)
        except Exception as error:  # an adapter bug must not cost the person a plan
            log.exception("LLM provider %s: the adapter failed", provider.name)
            return ChatReply("http_error", None, "", 0, 0, 0, f"adapter error: {error}")

    async def quota_left(self, provider: LlmProvider) -> float | None:
        """The share of ``provider``'s quota not yet used in its window; None: no quota."""
        if provider.quota_tokens is None:
            return None
        since = utcnow() - dt.timedelta(hours=provider.quota_window_hours)
        spent = func.coalesce(func.sum(LlmUsage.prompt_tokens + LlmUsage.completion_tokens), 0)
        async with self._sessions() as session:
            used = await session.scalar(
                select(spent).where(LlmUsage.provider == provider.name, LlmUsage.at >= since)
            )
        return max(0.0, 1 - int(used or 0) / provider.quota_tokens)

    async def _record(
        self,
        provider: LlmProvider,
        correlation_id: str,
        calls: list[LlmCall],
        outcome: str,
        reply: ChatReply | None,
        detail: str | None,
    ) -> None:
        call = LlmCall(
            provider=provider.name,
            model=provider.model,
            outcome=outcome,
            prompt_tokens=reply.prompt_tokens if reply else 0,
            completion_tokens=reply.completion_tokens if reply else 0,
            latency_ms=reply.latency_ms if reply else 0,
            detail=detail[:1000] if detail else None,
        )
        calls.append(call)
        if outcome != "ok":
            log.warning(
                "LLM provider %s: %s (%s) [%s]", provider.name, outcome, detail, correlation_id
            )
        async with self._sessions() as session:
            session.add(
                LlmUsage(
                    provider=call.provider,
                    model=call.model,
                    correlation_id=correlation_id,
                    prompt_tokens=call.prompt_tokens,
                    completion_tokens=call.completion_tokens,
                    latency_ms=call.latency_ms,
                    outcome=call.outcome,
                    detail=call.detail,
                )
            )
            await session.commit()
