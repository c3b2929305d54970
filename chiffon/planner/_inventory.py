"""What the planner reads from the repo's inventory: group and host names, and group_vars."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_INI_GROUP = re.compile(r"^\[([^\]:]+)(?::\w+)?\]\s*$")
_MAX_BYTES = 1024 * 1024


class _Loader(yaml.SafeLoader):
    """Safe loading where a tagged value (``!vault``, ``!unsafe``) is left out, not an error,
    so one vaulted password does not hide the rest of group_vars."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


@dataclass(frozen=True)
class InventoryFacts:
    """Group and host names (``names``) and the ``all`` group's variables (``group_vars``)."""

    names: frozenset[str] = frozenset()
    group_vars: dict[str, Any] = field(default_factory=dict)
    members: dict[str, frozenset[str]] = field(default_factory=dict)  # group -> its hosts

    def hosts_of(self, pattern: str) -> int | None:
        """How many hosts a hosts pattern (``a:b,c``, ``all``) names; None when it names
        something the inventory does not list (a pattern we cannot count)."""
        if pattern.strip() in ("all", "*"):
            return len(self.members.get("all", frozenset()))
        chosen: set[str] = set()
        for part in re.split(r"[:,]", pattern):
            part = part.strip().lstrip("!&")
            if not part:
                continue
            if part in self.members:
                chosen |= self.members[part]
            elif part in self.names:
                chosen.add(part)
            else:
                return None
        return len(chosen)

    def hosts_in(self, pattern: str) -> frozenset[str] | None:
        """The hosts a hosts pattern names: ``a:b,c`` (union), ``g:&h`` (and also in h),
        ``g:!h`` (but not in h), ``all``; None when a part is not in the inventory (a name it
        does not list, a wildcard or a regex)."""
        union: set[str] = set()
        also: list[frozenset[str]] = []
        without: set[str] = set()
        for raw in re.split(r"[:,]", pattern):
            part = raw.strip()
            if not part:
                continue
            name = part.lstrip("!&")
            if name in ("all", "*"):
                hosts = self.members.get("all", frozenset())
            elif name in self.members:
                hosts = self.members[name]
            elif name in self.names:
                hosts = frozenset({name})
            else:
                return None
            if part.startswith("&"):
                also.append(hosts)
            elif part.startswith("!"):
                without |= hosts
            else:
                union |= hosts
        for narrower in also:
            union &= narrower
        return frozenset(union - without)


def _load(path: Path) -> Any:
    try:
        if path.stat().st_size > _MAX_BYTES:
            return None
        text = path.read_text(encoding="utf-8", errors="replace")
        return yaml.load(text, Loader=_Loader)  # a SafeLoader: plain data only
    except (OSError, yaml.YAMLError, ValueError):
        return None  # a broken file: nothing to propose from it


def _yaml_names(data: Any, names: set[str], members: dict[str, set[str]]) -> set[str]:
    """Add the groups and hosts under ``data``; return every host found below it."""
    below: set[str] = set()
    if not isinstance(data, dict):
        return below
    for group, body in data.items():
        names.add(str(group))
        if not isinstance(body, dict):
            members.setdefault(str(group), set())
            continue
        hosts = body.get("hosts")
        mine = {str(host) for host in hosts} if isinstance(hosts, dict) else set()
        names.update(mine)
        mine |= _yaml_names(body.get("children"), names, members)
        members.setdefault(str(group), set()).update(mine)
        below |= mine
    return below


def _ini_names(text: str, names: set[str], members: dict[str, set[str]]) -> None:
    current, section = "ungrouped", ""
    children: dict[str, set[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        group = _INI_GROUP.match(line)
        if group:
            current, section = group.group(1), line.rstrip("]").partition(":")[2]
            names.add(current)
        elif section == "children":
            names.add(line.split()[0])
            children.setdefault(current, set()).add(line.split()[0])
        elif section == "" and "=" not in line.split()[0]:
            names.add(line.split()[0])
            members.setdefault(current, set()).add(line.split()[0])
            members.setdefault("all", set()).add(line.split()[0])
    for _ in range(len(children)):  # nested children: settle in as many passes as groups
        for parent, kids in children.items():
            for kid in kids:
                members.setdefault(parent, set()).update(members.get(kid, set()))


def _inventory_dirs(root: Path) -> list[Path]:
    found = [root, root / "inventory"]
    if (root / "inventories").is_dir():
        found += sorted(p for p in (root / "inventories").iterdir() if p.is_dir())
    return [p for p in found if p.is_dir() and p.resolve().is_relative_to(root.resolve())]


def read_facts(root: Path) -> InventoryFacts:
    """Read what there is; missing or unreadable files simply add nothing."""
    names: set[str] = set()
    members: dict[str, set[str]] = {}
    group_vars: dict[str, Any] = {}
    for folder in _inventory_dirs(root):
        for candidate in sorted(folder.glob("hosts*")) + sorted(folder.glob("*.ini")):
            if not candidate.is_file():
                continue
            if candidate.suffix in (".yml", ".yaml"):
                _yaml_names(_load(candidate), names, members)
            else:
                try:
                    text = candidate.read_text(encoding="utf-8", errors="replace")
                    _ini_names(text, names, members)
                except OSError:
                    continue
        base = folder / "group_vars"
        for candidate in [base / "all.yml", base / "all.yaml", *sorted(base.glob("all/*.y*ml"))]:
            data = _load(candidate) if candidate.is_file() else None
            if isinstance(data, dict):
                group_vars.update({str(k): v for k, v in data.items()})
    names.discard("all")
    names.discard("ungrouped")
    every = set().union(*members.values()) if members else set()
    members["all"] = every
    frozen = {group: frozenset(hosts) for group, hosts in members.items()}
    return InventoryFacts(frozenset(names), group_vars, frozen)


def mtimes(root: Path) -> tuple[float, ...]:
    """Modification times of the files ``read_facts`` reads, to tell when to read again."""
    stamps: list[float] = []
    for folder in _inventory_dirs(root):
        for candidate in [*folder.glob("hosts*"), *folder.glob("group_vars/all*")]:
            try:
                stamps.append(candidate.stat().st_mtime)
            except OSError:
                continue
    return tuple(sorted(stamps))
