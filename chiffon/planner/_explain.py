"""Asking a model to explain a failed run in more words: the prompt and the answer's check.

The model gets the facts Chiffon already established (class, task, module, file:line, error,
its own explanation and remedy) and answers ``{"explanation": "..."}``: text a person reads,
never anything that runs.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["EXPLANATION_CHARS", "ExplanationError", "check_explanation", "explanation_prompt"]

EXPLANATION_CHARS = 1500  # about a paragraph; the rest is cut
_FACT_CHARS = 2000  # per fact sent: an error's traceback is enough in its first lines

SYSTEM_PROMPT = (
    "You explain to a person who runs a homelab why their Ansible run failed. You get the facts "
    "that were already established: the failure class, the task, host, module, file and line, "
    "the error message, and a short explanation and remedy. In one paragraph of plain words "
    "(at most 120 words) say what most likely went wrong and what to check first. Use only "
    "these facts and say so when they are not enough; invent no file, variable or host. "
    'Answer with one JSON object only: {"explanation": "<the paragraph>"}.'
)


class ExplanationError(ValueError):
    """The answer is not ``{"explanation": "<text>"}``."""


def explanation_prompt(facts: dict[str, Any]) -> tuple[dict[str, str], ...]:
    """The chat messages: the rules, then the facts as one JSON document."""
    sent = {
        key: value[:_FACT_CHARS] if isinstance(value, str) else value
        for key, value in facts.items()
    }
    user = "The facts of the failure:\n" + json.dumps(sent, ensure_ascii=False, indent=1)
    return ({"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user})


def check_explanation(data: dict[str, Any] | None) -> str:
    """The explanation in ``data`` (trimmed, cut to ``EXPLANATION_CHARS``); raises
    ``ExplanationError`` when there is none."""
    text = (data or {}).get("explanation")
    if not isinstance(text, str) or not text.strip():
        raise ExplanationError('the answer has no "explanation" string')
    text = " ".join(text.split())
    return text if len(text) <= EXPLANATION_CHARS else text[: EXPLANATION_CHARS - 1] + "…"
