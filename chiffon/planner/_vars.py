"""Values said in a request ("on port 8090") mapped onto an entry's declared variables.

Only variables the entry declares are ever proposed, and a value is coerced to the type of the
variable's default when that is an int or a bool.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from chiffon.catalog import Entry, Variable
from chiffon.planner._text import Action, stem, tokens

_PORT = re.compile(r"\b(?:on\s+|at\s+|using\s+)?port\s*(?:number\s*)?[:=]?\s*(\d{1,5})\b", re.I)
_HOSTNAME = re.compile(
    r"\b(?:with\s+|using\s+|at\s+)?(?:the\s+)?host\s*name\s*(?:of\s+|as\s+|=\s*)?"
    r"[\"'`]?([a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)[\"'`]?",
    re.I,
)
_VERSION = re.compile(r"\b(?:at\s+|on\s+|to\s+)?version\s*[:=]?\s*v?(\d[\w.+-]*)", re.I)
_EXTERNAL = re.compile(
    r"\b(?:make\s+it\s+|makes?\s+\w+\s+)?(?:available|reachable|accessible|exposed?)\s+"
    r"(?:externally|publicly|from\s+(?:the\s+)?(?:outside|internet)|to\s+the\s+internet)\b"
    r"|\bexpose\s+it\b|\bpublicly\s+available\b",
    re.I,
)


@dataclass
class Hints:
    """What a clause says about values, before knowing which entry it is for."""

    port: int | None = None
    hostname: str | None = None
    version: str | None = None
    external: bool = False
    spans: list[tuple[int, int]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any((self.port is not None, self.hostname, self.version, self.external))

    def merge(self, other: Hints) -> None:
        self.port = other.port if other.port is not None else self.port
        self.hostname = other.hostname or self.hostname
        self.version = other.version or self.version
        self.external = self.external or other.external


def find_hints(text: str) -> tuple[Hints, str]:
    """The values ``text`` states, and the text with those phrases cut out."""
    hints = Hints()
    for pattern in (_PORT, _HOSTNAME, _VERSION, _EXTERNAL):
        for found in pattern.finditer(text):
            hints.spans.append(found.span())
            if pattern is _PORT and 0 < int(found.group(1)) < 65536:
                hints.port = int(found.group(1))
            elif pattern is _HOSTNAME:
                hints.hostname = found.group(1)
            elif pattern is _VERSION:
                hints.version = found.group(1).rstrip(".")
            elif pattern is _EXTERNAL:
                hints.external = True
    rest, position = [], 0
    for start, end in sorted(hints.spans):
        rest.append(text[position:start])
        position = max(position, end)
    rest.append(text[position:])
    return hints, " ".join(" ".join(rest).split())


def assign(
    entry: Entry,
    hints: Hints,
    action: Action | None,
    clause: str,
    group_vars: dict[str, Any],
) -> dict[str, Any]:
    """Extra vars for ``entry``: stated values on its declared variables, its ``*_enabled``
    flag from the action, and group_vars values the clause names (see ``_from_group_vars``)."""
    declared = {v.name: v for v in entry.variables}
    chosen: dict[str, Any] = {}

    def put(suffixes: tuple[str, ...], value: Any) -> None:
        variable = _pick(entry, declared, suffixes)
        if variable is not None:
            chosen[variable.name] = _coerce(value, variable.default)

    if hints.port is not None:
        put(("_port",), hints.port)
    if hints.hostname:
        put(("_hostname", "_host_name", "_domain", "_fqdn"), hints.hostname)
    if hints.version:
        put(("_version", "_image_tag", "_tag"), hints.version)
    if hints.external:
        put(("_available_externally", "_external", "_expose", "_public"), True)
    if action in (Action.INSTALL, Action.REMOVE):
        put(("_enabled",), action is Action.INSTALL)
    chosen.update(_from_group_vars(declared.values(), clause, group_vars))
    return chosen


def _pick(
    entry: Entry, declared: dict[str, Variable], suffixes: tuple[str, ...]
) -> Variable | None:
    found = [v for v in declared.values() if v.name.endswith(suffixes)]
    if suffixes[0] == "_enabled":
        found = [v for v in found if isinstance(v.default, bool)]
    if len(found) <= 1:
        return found[0] if found else None
    # Several: the one named after the entry (``grafana_port`` for grafana), else the shortest.
    prefixes = {p for p in (entry.name, entry.service, entry.role) if p}
    prefixes |= {p.replace("-", "_") for p in prefixes}
    own = [v for v in found if any(v.name.startswith(p + "_") for p in prefixes)]
    return min(own or found, key=lambda v: (len(v.name), v.name))


def _coerce(value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        return value if isinstance(value, bool) else str(value).lower() in {"1", "true", "yes"}
    if isinstance(default, int):
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    if isinstance(default, str) and not isinstance(value, str):
        return str(value).lower() if isinstance(value, bool) else str(value)
    return value


def _from_group_vars(declared: Any, clause: str, group_vars: dict[str, Any]) -> dict[str, Any]:
    """For "add our existing portals to the config": a group_vars key the clause names
    (``portals``) is proposed for each declared variable whose default refers to it
    (``"{{ portals | default([]) }}"``), or whose name contains it, or, for a list of things,
    a ``*_monitors`` variable."""
    said = {stem(t) for t in tokens(clause)}
    proposed: dict[str, Any] = {}
    for key, value in group_vars.items():
        if stem(key.lower()) not in said:
            continue
        reference = re.compile(r"\{\{\s*" + re.escape(key) + r"\b")
        for variable in declared:
            default = variable.default
            if (
                (isinstance(default, str) and reference.search(default))
                or key in variable.name
                or (isinstance(value, list) and variable.name.endswith("_monitors"))
            ):
                proposed[variable.name] = value
    return proposed
