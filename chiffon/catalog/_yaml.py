"""Reading the YAML that Ansible repos hold, turning every failure into a message.

Nothing here raises on a bad file: callers get ``(data, None)`` or ``(None, message)``. The
loader is PyYAML's safe loader plus constructors for Ansible's ``!vault`` and ``!unsafe`` (and
any other local tag), which become opaque values instead of errors.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 2 * 1024 * 1024
VAULT_PLACEHOLDER = "<encrypted with ansible-vault>"
_MAX_NODES = 5_000  # per value stored as JSON: enough for real defaults, not for a YAML bomb
_MAX_DEPTH = 32
_MAX_TEXT = 10_000
_MAX_NESTING = 100  # real playbooks stay under 20

_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _AnsibleLoader(_Base):  # type: ignore[valid-type,misc]
    """Safe loader that accepts Ansible's tags."""


def _vault(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return VAULT_PLACEHOLDER


def _opaque(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    # `!unsafe`, `!include` and friends: keep the value, drop the tag's meaning.
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


_AnsibleLoader.add_constructor("!vault", _vault)
_AnsibleLoader.add_multi_constructor("!", _opaque)


def parse_yaml(text: str, label: str, first_line: int = 1) -> tuple[Any, str | None]:
    """Return ``(data, None)`` for valid YAML, else ``(None, "<label>: line L, column C: ...")``.

    ``first_line`` is the file line that ``text`` starts on, so positions point into the file.
    """
    try:
        line = _too_deep(text)
        if line is not None:
            return None, (
                f"{label}: line {line + first_line}: nested more than {_MAX_NESTING} levels deep"
            )
        # A SafeLoader subclass: it builds plain data, never objects.
        return yaml.load(text, Loader=_AnsibleLoader), None
    except yaml.MarkedYAMLError as error:
        return None, _marked_message(error, label, first_line)
    except yaml.YAMLError as error:
        return None, f"{label}: not valid YAML: {_one_line(str(error))}"
    except RecursionError:
        return None, f"{label}: not valid YAML: nested too deeply"


def _too_deep(text: str) -> int | None:
    """The 0-based line where nesting passes ``_MAX_NESTING``, or None.

    Checked on the parser's events first because building a deeper document recurses, in C,
    deep enough to crash the whole process instead of raising.
    """
    loader = _AnsibleLoader(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                depth += 1
                if depth > _MAX_NESTING:
                    return event.start_mark.line if event.start_mark else 0
            elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as error:
        # Newer libyaml stops on its own nesting limit (deeper than ours) with a scanner
        # error: the same finding, said the same way.
        if "nesting depth" in (error.problem or "") and error.problem_mark is not None:
            return error.problem_mark.line
        raise
    finally:
        loader.dispose()
    return None


def read_yaml(path: Path, label: str) -> tuple[Any, str | None]:
    """Read and parse one file; return ``(data, None)`` or ``(None, message)``."""
    text, error = read_text(path, label)
    if text is None:
        return None, error
    return parse_yaml(text, label)


def read_text(path: Path, label: str) -> tuple[str | None, str | None]:
    """Return ``(text, None)`` for a readable UTF-8 file up to ``MAX_BYTES``, else a message."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return None, (
                f"{label}: the file is {size} bytes; the catalog reads YAML files up to "
                f"{MAX_BYTES // (1024 * 1024)} MiB"
            )
        raw = path.read_bytes()
    except OSError as error:
        return None, f"{label}: cannot read it ({error.strerror or error})"
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        bad = raw[error.start]
        line = raw.count(b"\n", 0, error.start) + 1
        return None, f"{label}: not UTF-8 text (byte 0x{bad:02x} on line {line})"


def _marked_message(error: yaml.MarkedYAMLError, label: str, first_line: int) -> str:
    mark = error.problem_mark or error.context_mark
    where = ""
    if mark is not None:
        where = f" line {mark.line + first_line}, column {mark.column + 1}:"
    problem = error.problem or "not valid YAML"
    context = f" ({error.context})" if error.context else ""
    return f"{label}:{where} {problem}{context}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def clean_text(value: str, limit: int = _MAX_TEXT) -> str:
    """``value`` without NUL characters (PostgreSQL text refuses them), cut to ``limit``."""
    value = value.replace("\x00", "")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def json_safe(value: Any) -> Any:
    """Return ``value`` as plain JSON types, bounded in size (a YAML bomb becomes a string)."""
    budget = [_MAX_NODES]
    return _json_safe(value, 0, budget)


def _json_safe(value: Any, depth: int, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0 or depth > _MAX_DEPTH:
        return "<too large to show>"
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes of binary data>"
    if isinstance(value, dict):
        return {
            clean_text(str(key)): _json_safe(item, depth + 1, budget) for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(item, depth + 1, budget) for item in value]
    return clean_text(str(value))
