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

    def walk(name: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                walk(str(key), inner)
        elif isinstance(value, list | tuple):
            for inner in value:
                walk(name, inner)
        elif is_secret_name(name) and value is not None and len(str(value)) >= 4:
            found.append(str(value))

    for key, value in variables.items():
        walk(str(key), value)
    return sorted(set(found), key=len, reverse=True)


def redact_mapping(variables: Mapping[str, Any]) -> dict[str, Any]:
    """A copy with the values of secret-looking keys replaced, at any depth."""

    def walk(name: str, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): walk(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(name, v) for v in value]
        if is_secret_name(name) and value is not None:
            return REDACTED
        return value

    return {str(k): walk(str(k), v) for k, v in variables.items()}


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
