"""Parsing extra vars the way ansible-playbook's ``-e`` takes them."""

from __future__ import annotations

import datetime as dt
import json
import re
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ExtraVarsError(ValueError):
    """Extra vars that cannot be used; the message says which and how to write them."""


def _check_names(variables: dict[str, Any], origin: str) -> dict[str, Any]:
    for name in variables:
        if not isinstance(name, str) or not _NAME.match(name):
            raise ExtraVarsError(
                f"{origin}: {name!r} is not a valid variable name "
                "(letters, digits and underscores, not starting with a digit)."
            )
    return variables


def _json_safe(variables: dict[str, Any], origin: str) -> dict[str, Any]:
    """``variables`` as plain JSON values (runs store them in a JSON column).

    YAML dates become the text Ansible prints for them; other values JSON cannot hold (sets,
    binary, NaN) raise ``ExtraVarsError``.
    """

    def plain(value: Any) -> Any:
        if isinstance(value, dt.date):  # a datetime is a date too
            return str(value)
        raise TypeError(f"a {type(value).__name__} value")

    try:
        safe: dict[str, Any] = json.loads(json.dumps(variables, default=plain, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise ExtraVarsError(
            f"{origin}: cannot be passed on ({error}); use strings, numbers, booleans, "
            "lists and mappings."
        ) from None
    return safe


def _mapping(text: str, origin: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ExtraVarsError(f"{origin}: not valid YAML or JSON{where}.") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ExtraVarsError(
            f"{origin}: must be a mapping of name: value, got {type(data).__name__}."
        )
    return _json_safe(_check_names(data, origin), origin)


def parse_extra_vars(items: Iterable[str], base_dir: Path | None = None) -> dict[str, Any]:
    """Merge ``-e`` items (``k=v k2=v2``, ``@file.yml``, or inline JSON/YAML) left to right.

    Raises ``ExtraVarsError`` naming the item that is wrong and what is allowed.
    """
    result: dict[str, Any] = {}
    for item in items:
        item = item.strip()
        if not item:
            continue
        if item.startswith("@"):
            path = Path(item[1:]).expanduser()
            if base_dir is not None and not path.is_absolute():
                path = base_dir / path
            try:
                text = path.read_text()
            except (OSError, UnicodeDecodeError) as error:
                raise ExtraVarsError(f"-e {item}: cannot read the file ({error}).") from None
            result.update(_mapping(text, f"-e {item}"))
        elif item.startswith(("{", "---")):
            try:
                origin = f"-e {item!r}"
                result.update(_json_safe(_check_names(json.loads(item), origin), origin))
            except (json.JSONDecodeError, AttributeError):
                result.update(_mapping(item, f"-e {item!r}"))
        else:
            try:
                words = shlex.split(item)
            except ValueError as error:
                raise ExtraVarsError(f"-e {item!r}: {error}.") from None
            for word in words:
                name, sep, value = word.partition("=")
                if not sep or not name:
                    raise ExtraVarsError(
                        f"-e {item!r}: expected name=value, @file.yml or a JSON/YAML mapping."
                    )
                result.update(_check_names({name: value}, f"-e {item!r}"))
    return result


_LINE = re.compile(r"line (\d+)")
_KEY_VALUE_LINE = re.compile(r"^[^\s:=\[\]{}'\"#]+=")


def parse_form_vars(text: str) -> dict[str, Any]:
    """The run form's extra vars: ``name=value`` lines, or a YAML / JSON mapping.

    Raises ``ExtraVarsError`` saying which line is wrong. ``@file`` is refused: the web form
    must not read files on the server.
    """
    text = text.strip()
    if not text:
        return {}
    lines = [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    for number, line in lines:
        if line.startswith("@"):
            raise ExtraVarsError(
                f"Extra vars line {number}: files (@file.yml) cannot be read from the web "
                "form; paste their variables instead."
            )
    if all(_KEY_VALUE_LINE.match(line) for _, line in lines):
        result: dict[str, Any] = {}
        for number, line in lines:
            try:
                result.update(parse_extra_vars([line]))
            except ExtraVarsError:  # one variable per line: "msg=hello world" is one value
                name, _, value = line.partition("=")
                item = json.dumps({name.strip(): value.strip()})
                result.update(_parse_item(item, f"Extra vars line {number}"))
        return result
    if text.startswith(("{", "---")):
        return _parse_item(text, "Extra vars")
    # "---" makes parse_extra_vars read it as YAML; error positions then count one line more.
    return _parse_item("---\n" + text, "Extra vars", added_lines=1)


def _parse_item(item: str, origin: str, added_lines: int = 0) -> dict[str, Any]:
    try:
        return parse_extra_vars([item])
    except ExtraVarsError as error:  # say where in the form, not which ``-e`` item
        message = str(error).replace(f"-e {item!r}", origin, 1)
        if added_lines:
            message = _LINE.sub(lambda m: f"line {int(m[1]) - added_lines}", message)
        raise ExtraVarsError(message) from None
