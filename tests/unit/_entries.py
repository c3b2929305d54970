"""A factory for catalog entries in planner unit tests."""

from __future__ import annotations

from typing import Any

from chiffon.catalog import Entry, EntryKind, Variable


def make_entry(
    name: str,
    kind: EntryKind = EntryKind.ROLE,
    description: str = "",
    variables: dict[str, Any] | None = None,
    header: dict[str, Any] | None = None,
    task_names: tuple[str, ...] = (),
    hosts: str | None = None,
    service: str | None = None,
) -> Entry:
    path = f"roles/{name}" if kind is EntryKind.ROLE else f"{name}.yml"
    return Entry(
        id=None,
        kind=kind,
        name=name,
        path=path,
        role=name if kind is EntryKind.ROLE else None,
        description=description,
        service=service,
        tags=(),
        variables=tuple(Variable(k, v, "defaults/main.yml") for k, v in (variables or {}).items()),
        hosts=hosts,
        task_names=task_names,
        header=header or {},
        content_hash=f"hash-{name}",
        valid=True,
        error=None,
    )
