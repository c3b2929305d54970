"""Secret redaction for anything that is stored, logged, streamed or committed."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "********"
# Names that hold secrets: *password*, *passwd*, *secret*, *token*, *credential*, *vault*,
# and "key" or "pass" as a word of a snake/kebab name (api_key, ansible_become_pass) but not
# "monkey" or "passenger".
_SECRET_NAME = re.compile(
    r"(pass(word|wd|phrase)|secret|token|credential|vault|apikey"
    r"|(^|[_-])(key|pass)($|[_-]))",
    re.IGNORECASE,
)


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def secret_values(variables: Mapping[str, Any]) -> list[str]:
    """The string values of secret-looking variables, longest first, at least 4 characters."""
    found: list[str] = []

    # Everything under a secret-looking name is secret: `vault: {db: ...}` included.
    def walk(value: Any, secret: bool) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                walk(inner, secret or is_secret_name(str(key)))
        elif isinstance(value, list | tuple):
            for inner in value:
                walk(inner, secret)
        elif secret and value is not None and len(str(value)) >= 4:
            found.append(str(value))

    walk(variables, False)
    return sorted(set(found), key=len, reverse=True)


def redact_mapping(variables: Mapping[str, Any]) -> dict[str, Any]:
    """A copy with every value under a secret-looking key replaced, at any depth."""

    def walk(value: Any, secret: bool) -> Any:
        if isinstance(value, Mapping):
            return {str(k): walk(v, secret or is_secret_name(str(k))) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(v, secret) for v in value]
        return REDACTED if secret and value is not None else value

    return {str(k): walk(v, is_secret_name(str(k))) for k, v in variables.items()}


def redact_text(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact_value(value: Any, secrets: Iterable[str]) -> Any:
    """``value`` (str, list or dict, any depth) with every secret string replaced."""
    secrets = list(secrets)
    if not secrets:
        return value
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, Mapping):
        return {k: redact_value(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v, secrets) for v in value]
    return value
