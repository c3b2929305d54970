"""The ansible-runner job a checked run request makes."""

from __future__ import annotations

from pathlib import Path

from chiffon.catalog import Entry, EntryKind

from ._types import RunRequest
from .runner import RunnerJob


def runner_job(
    repo: Path, marker: str, scratch: Path, inventory: str, entry: Entry, request: RunRequest
) -> RunnerJob:
    """``entry`` run as ``request`` asks, marked ``marker``, in the scratch folder ``scratch``;
    ``inventory`` is relative to the playbook repo ``repo`` (or absolute)."""
    tags = request.tags
    if entry.kind is EntryKind.TAG:
        tags = ",".join(t for t in (entry.name, request.tags) if t)
    common = {
        "marker": marker,
        "private_data_dir": scratch,
        "project_dir": repo,
        "inventory": str(repo / inventory),
        "limit": request.limit,
        "tags": tags,
        "extra_vars": dict(request.extra_vars),
        "check": request.check,
    }
    if entry.kind is EntryKind.ROLE:
        return RunnerJob(role=entry.name, role_hosts=entry.hosts or "all", **common)  # type: ignore[arg-type]
    return RunnerJob(playbook=entry.path, **common)  # type: ignore[arg-type]
