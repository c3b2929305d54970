"""Checks a run request passes before anything is stored, and who owns a running run."""

from __future__ import annotations

import dataclasses
import os
import socket
from pathlib import Path

from chiffon.catalog import Entry

from ._types import RunRequest, RunRequestError

OWNER = f"{socket.gethostname()}:{os.getpid()}"


def answer_prompts(entry: Entry, request: RunRequest) -> RunRequest:
    """Give every ``vars_prompt`` its default as an extra var: runs never wait at a prompt."""
    answers: dict[str, object] = {}
    for variable in entry.variables:
        if variable.source != "vars_prompt" or variable.name in request.extra_vars:
            continue
        if variable.default is None:
            raise RunRequestError(
                f"{entry.path} prompts for {variable.name!r} and has no default: "
                f"pass it as an extra var (-e {variable.name}=VALUE)."
            )
        answers[variable.name] = variable.default
    if not answers:
        return request
    return dataclasses.replace(request, extra_vars={**answers, **request.extra_vars})


def existing_inventory(repo: Path, chosen: str, confined: bool = True) -> str:
    """The inventory path, relative to the repo when it lies inside it.

    Raises ``RunRequestError`` when it does not exist, or lies outside the repo and ``confined``.
    """
    path = Path(chosen).expanduser()
    if not path.is_absolute():
        path = repo / path
    if not path.exists():
        raise RunRequestError(
            f"Inventory {chosen} does not exist (looked at {path}). Pass -i with an "
            "existing inventory file or directory."
        )
    path = path.resolve()
    if path.is_relative_to(repo):
        return str(path.relative_to(repo))
    if confined:
        raise RunRequestError(
            f"Inventory {chosen} is outside the playbook repo ({repo}): pass one inside it, "
            "or set CHIFFON_INVENTORY to use one kept elsewhere."
        )
    return str(path)


def owner_is_gone(owner: str) -> bool:
    """True when the Chiffon process that ran it no longer exists (or is this one)."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname():
        return not owner  # another host's instance owns it; unknown owners are orphans
    if not pid.isdigit() or int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
