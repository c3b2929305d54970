"""``verify``'s findings: what is wrong with one subject's audit commit, as readable lines."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from chiffon.audit.repo import FileLookup

__all__ = ["VerifyReport", "commit_problems", "differences"]


@dataclass(frozen=True)
class VerifyReport:
    checked: int  # runs and plans together
    problems: list[str] = field(default_factory=list)
    plans_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def runs_checked(self) -> int:
        return self.checked - self.plans_checked


def differences(stored: Any, expected: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the keys whose values differ (a whole value when not both dicts)."""
    if not (isinstance(stored, dict) and isinstance(expected, dict)):
        return [] if stored == expected else [prefix or "(whole record)"]
    found: list[str] = []
    for key in sorted(set(stored) | set(expected), key=str):
        path = f"{prefix}.{key}" if prefix else str(key)
        if key not in stored:
            found.append(f"{path} (missing in git)")
        elif key not in expected:
            found.append(f"{path} (not in the database)")
        else:
            found.extend(differences(stored[key], expected[key], path))
    return found


def commit_problems(
    where: str,
    sha: str | None,
    record_sha: str | None,
    missing: str,
    path: str,
    expected: bytes,
    history: set[str],
    lookup: FileLookup | None,
) -> list[str]:
    """What is wrong with one subject's audit commit, as lines starting with ``where``.

    ``sha`` is the commit the subject's row names, ``record_sha`` the one its audit row has,
    ``missing`` the line for a subject without a commit, ``expected`` the record rebuilt from
    the database. [] when nothing is wrong.
    """
    subject = where.split(" ", 1)[0]
    if sha is None or lookup is None:
        if record_sha is not None:
            return [
                f"{where}: the {subject} has no audit commit but its audit record has "
                f"{record_sha} (the next start links them)"
            ]
        return [f"{where}: {missing}"]
    problems: list[str] = []
    if record_sha not in (None, sha):
        problems.append(
            f"{where}: the {subject}'s audit commit {sha} differs from its audit record's "
            f"{record_sha}"
        )
    if not lookup.commit_exists:
        return [*problems, f"{where}: audit commit {sha} is not in the audit repo"]
    if sha not in history:
        problems.append(
            f"{where}: audit commit {sha} is not in the history of the audit repo's HEAD "
            "(was history rewritten?)"
        )
    if lookup.content is None:
        return [*problems, f"{where}: audit commit {sha} has no {path}"]
    try:
        stored = json.loads(lookup.content)
    except ValueError:
        return [*problems, f"{where}: {path} in audit commit {sha} is not valid JSON"]
    keys = differences(stored, json.loads(expected))
    if keys:
        problems.append(
            f"{where}: {path} in audit commit {sha} differs from the database: " + ", ".join(keys)
        )
    return problems
