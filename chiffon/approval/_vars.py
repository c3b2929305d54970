"""A person's variable edits checked against what the entry declares, typed like its defaults."""

from __future__ import annotations

import json
from typing import Any

from chiffon.catalog import Entry

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


class InvalidVariable(ValueError):
    """A variable the entry does not declare, or a value of the wrong type; says which."""


def check_vars(entry: Entry, given: dict[str, Any]) -> dict[str, Any]:
    """``given`` with each value coerced to its default's type (text from a form becomes a
    number, a flag or a list). Raises ``InvalidVariable`` naming the first bad one."""
    declared = {variable.name: variable.default for variable in entry.variables}
    checked: dict[str, Any] = {}
    for name, value in given.items():
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise InvalidVariable(
                f"{entry.name} does not declare a variable '{name}' (it declares: {known})"
            )
        checked[name] = _typed(name, value, declared[name])
    return checked


def _typed(name: str, value: Any, default: Any) -> Any:
    if default is None or (isinstance(default, str) and "{{" in default):
        return value  # no type to go by: a templated or empty default
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise InvalidVariable(f"{name} must be true or false, not {value!r}")
    if isinstance(default, int | float):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return type(default)(value)
        try:
            return type(default)(str(value).strip())
        except ValueError:
            kind = "a whole number" if isinstance(default, int) else "a number"
            raise InvalidVariable(f"{name} must be {kind}, not {value!r}") from None
    if isinstance(default, list | dict):
        parsed = value
        if isinstance(value, str):
            try:
                parsed = json.loads(value)
            except json.JSONDecodeError:
                parsed = None
        if not isinstance(parsed, type(default)):
            kind = "a list" if isinstance(default, list) else "a mapping"
            raise InvalidVariable(f"{name} must be {kind} (JSON), not {value!r}")
        return parsed
    if isinstance(value, dict | list):
        raise InvalidVariable(f"{name} must be text, not {value!r}")
    return str(value)
