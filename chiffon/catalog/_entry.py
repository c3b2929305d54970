"""The catalog's public value types and errors."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class EntryKind(StrEnum):
    PLAYBOOK = "playbook"
    ROLE = "role"
    TAG = "tag"


class CatalogError(Exception):
    """The catalog cannot do what was asked; the message says why and how to fix it."""


class EntryNotFound(CatalogError):
    """No catalog entry matches the reference."""


class PathOutsideRepo(CatalogError):
    """A path leaves the playbook repo (absolute, `..`, or a symlink pointing out)."""


@dataclass(frozen=True)
class Variable:
    """A declared variable and its default; ``source`` says where it was declared."""

    name: str
    default: Any
    source: str  # "defaults/main.yml", "vars/main.yml", "play vars", "vars_prompt", ...

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "default": self.default, "source": self.source}


@dataclass(frozen=True)
class Entry:
    """One runnable thing in the playbook repo: a playbook, a role, or a tag of a site playbook.

    ``path`` is relative to the repo (a role's is ``roles/<name>``; a tag's is its site
    playbook). ``role`` is the role a TAG entry applies (the first one when the tag applies
    several) and the role's own name for a ROLE entry.
    """

    id: int | None
    kind: EntryKind
    name: str
    path: str
    role: str | None
    description: str
    service: str | None
    tags: tuple[str, ...]
    variables: tuple[Variable, ...]
    hosts: str | None
    task_names: tuple[str, ...]
    header: dict[str, Any]
    content_hash: str
    valid: bool
    error: str | None
    become: bool = False  # a play, block or task escalates privileges (root)

    @property
    def resources(self) -> dict[str, Any]:
        """What the entry needs from a machine (its header's ``resources:``; ``{}`` if none),
        e.g. ``{"min_gpu_vram_mb": 8000, "min_cpu_cores": 2, "labels": ["gpu"]}``."""
        declared = self.header.get("resources")
        return dict(declared) if isinstance(declared, dict) else {}

    @property
    def ref(self) -> str:
        """The unambiguous ``kind:name`` form of this entry's name."""
        return f"{self.kind}:{self.name}"

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict (what ``chiffon catalog scan --json`` prints per entry)."""
        return {
            "id": self.id,
            "kind": str(self.kind),
            "name": self.name,
            "path": self.path,
            "role": self.role,
            "description": self.description,
            "service": self.service,
            "tags": list(self.tags),
            "variables": [variable.to_json() for variable in self.variables],
            "hosts": self.hosts,
            "task_names": list(self.task_names),
            "header": self.header,
            "resources": self.resources,
            "content_hash": self.content_hash,
            "valid": self.valid,
            "error": self.error,
            "become": self.become,
        }


@dataclass(frozen=True)
class Inventory:
    """An inventory source found in the repo; ``path`` is relative to the repo."""

    path: str
    source: str  # "ansible.cfg", "inventory directory", "inventories directory", "hosts file"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "source": self.source}


@dataclass(frozen=True)
class Saved:
    """Files written into the playbook repo; ``commit`` is None when it is not a git repo."""

    paths: list[str]
    commit: str | None


@dataclass(frozen=True)
class ScanResult:
    """What a scan found.

    ``parsed`` counts entries built from new or changed files and written; ``reused`` counts
    stored entries whose content hash still matched and were kept as they were; ``removed``
    counts stored entries whose files are gone. ``files_read`` counts the files read and
    hashed: the others' stat said they had not changed since the last scan.
    """

    entries: list[Entry]
    inventories: list[Inventory]
    parsed: int
    reused: int
    removed: int
    seconds: float
    files_read: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "entries": [entry.to_json() for entry in self.entries],
            "inventories": [inventory.to_json() for inventory in self.inventories],
            "parsed": self.parsed,
            "reused": self.reused,
            "removed": self.removed,
            "seconds": self.seconds,
            "files_read": self.files_read,
        }
