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


def _load(path: Path) -> Any:
    try:
        if path.stat().st_size > _MAX_BYTES:
            return None
        text = path.read_text(encoding="utf-8", errors="replace")
        return yaml.load(text, Loader=_Loader)  # a SafeLoader: plain data only
    except (OSError, yaml.YAMLError, ValueError):
        return None  # a broken file: nothing to propose from it


def _yaml_names(data: Any, names: set[str]) -> None:
    if not isinstance(data, dict):
        return
    for group, body in data.items():
        names.add(str(group))
        if not isinstance(body, dict):
            continue
        hosts = body.get("hosts")
        if isinstance(hosts, dict):
            names.update(str(host) for host in hosts)
        _yaml_names(body.get("children"), names)


def _ini_names(text: str, names: set[str]) -> None:
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        group = _INI_GROUP.match(line)
        if group:
            names.add(group.group(1))
        elif "=" not in line.split()[0]:
            names.add(line.split()[0])


def _inventory_dirs(root: Path) -> list[Path]:
    found = [root, root / "inventory"]
    if (root / "inventories").is_dir():
        found += sorted(p for p in (root / "inventories").iterdir() if p.is_dir())
    return [p for p in found if p.is_dir() and p.resolve().is_relative_to(root.resolve())]


def read_facts(root: Path) -> InventoryFacts:
    """Read what there is; missing or unreadable files simply add nothing."""
    names: set[str] = set()
    group_vars: dict[str, Any] = {}
    for folder in _inventory_dirs(root):
        for candidate in sorted(folder.glob("hosts*")) + sorted(folder.glob("*.ini")):
            if not candidate.is_file():
                continue
            if candidate.suffix in (".yml", ".yaml"):
                _yaml_names(_load(candidate), names)
            else:
                try:
                    _ini_names(candidate.read_text(encoding="utf-8", errors="replace"), names)
                except OSError:
                    continue
        base = folder / "group_vars"
        for candidate in [base / "all.yml", base / "all.yaml", *sorted(base.glob("all/*.y*ml"))]:
            data = _load(candidate) if candidate.is_file() else None
            if isinstance(data, dict):
                group_vars.update({str(k): v for k, v in data.items()})
    names.discard("all")
    names.discard("ungrouped")
    return InventoryFacts(frozenset(names), group_vars)


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
