"""Chiffon's own checks, for what ansible-lint does not say (or says without a fix).

Each finding may carry a fix: the whole file's new text, edited with ``yamledit`` so that
comments and layout stay as they were.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from . import yamledit
from .yamledit import TaskNode, YamlSyntaxError

_COMMANDS = {"command", "shell", "raw", "script"}
_PACKAGES = {"apt", "yum", "dnf", "package", "pip", "zypper", "pacman", "apk", "homebrew"}
_CHANGE_GUARDS = {"changed_when", "creates", "removes"}


@dataclass(frozen=True)
class OwnFinding:
    rule: str
    message: str
    file: str
    line: int | None
    severity: str
    fixable: bool = False  # chiffon_fix() can edit it


@dataclass(frozen=True)
class SourceFile:
    path: str  # relative to the playbook repo
    kind: str  # "playbook" | "tasks" | "handlers"
    text: str


def _short(module: str | None) -> str:
    return (module or "").rsplit(".", 1)[-1]


def entry_files(root: Path, kind: str, path: str, role: str | None) -> list[SourceFile]:
    """The files an entry is made of: a playbook (or a tag's site playbook) and the roles it
    applies, or a role's tasks and handlers. Unreadable files are left out."""
    files: list[SourceFile] = []
    roles: list[str] = []
    if kind == "role":
        roles.append(role or Path(path).name)
    else:
        text = _read(root / path)
        if text is None:
            return []
        files.append(SourceFile(path, "playbook", text))
        roles.extend(_roles_of(text))
    for name in dict.fromkeys(roles):
        for part, file_kind in (("tasks", "tasks"), ("handlers", "handlers")):
            folder = root / "roles" / name / part
            for source in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
                text = _read(source)
                if text is not None:
                    files.append(SourceFile(source.relative_to(root).as_posix(), file_kind, text))
    return files


@functools.lru_cache(maxsize=256)
def _roles_of(playbook_text: str) -> tuple[str, ...]:
    # Cached by text: a cached analysis must not parse the playbook again to find its files.
    try:
        return yamledit.read(playbook_text, "playbook").roles
    except YamlSyntaxError:  # check() reports it
        return ()


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def check(files: list[SourceFile]) -> list[OwnFinding]:
    """Every finding of Chiffon's checks in ``files`` (a file that is not YAML gives one
    ``chiffon-syntax`` finding and is not checked further)."""
    findings: list[OwnFinding] = []
    shapes: dict[str, list[TaskNode]] = {}
    for source in files:
        try:
            shapes[source.path] = list(yamledit.read(source.text, source.kind).tasks)
        except YamlSyntaxError as error:
            findings.append(
                OwnFinding(
                    "chiffon-syntax",
                    f"Not valid YAML: {error}",
                    source.path,
                    error.line,
                    "blocker",
                )
            )
    handlers = {
        name
        for tasks in shapes.values()
        for task in tasks
        if task.handler
        for name in (task.name, *task.listen)
        if name
    }
    by_path = {source.path: source for source in files}
    for path, tasks in shapes.items():
        source = by_path[path]
        for task in tasks:
            findings.extend(_task_findings(source, task, handlers))
    return findings


def _task_findings(source: SourceFile, task: TaskNode, handlers: set[str]) -> list[OwnFinding]:
    found: list[OwnFinding] = []
    module = _short(task.module)
    for name in task.notify:
        if "{{" not in name and name not in handlers:
            found.append(
                OwnFinding(
                    "chiffon-missing-handler",
                    f"notify: '{name}' matches no handler name or listen: of this playbook or "
                    "its roles.",
                    source.path,
                    task.line,
                    "critical",
                )
            )
    if module in _COMMANDS and not task.keys & _CHANGE_GUARDS and not _guarded_args(task):
        found.append(
            OwnFinding(
                "chiffon-command-changed",
                f"{module} task without changed_when, creates or removes always reports "
                "'changed'. The fix marks it as never changing: right for a command that only "
                "reads; otherwise write the condition instead.",
                source.path,
                task.line,
                "major",
                fixable=True,
            )
        )
    if task.name is None and not task.handler:
        found.append(
            OwnFinding(
                "chiffon-unnamed-task", "This task has no name.", source.path, task.line, "minor"
            )
        )
    arguments = task.module_args if isinstance(task.module_args, dict) else {}
    if module in _PACKAGES and arguments.get("state") == "latest":
        found.append(
            OwnFinding(
                "chiffon-package-latest",
                f"{module} with state: latest; state: present installs it once and leaves "
                "upgrades to a deliberate change.",
                source.path,
                task.line,
                "major",
                fixable=True,
            )
        )
    if module in _PACKAGES and task.looped and "{{" in str(arguments.get("name", "")):
        found.append(
            OwnFinding(
                "chiffon-package-loop",
                f"{module} installs one loop item at a time; give name: the whole list.",
                source.path,
                task.line,
                "minor",
            )
        )
    return found


def _guarded_args(task: TaskNode) -> bool:
    for arguments in (task.module_args, task.args):
        if isinstance(arguments, dict) and set(map(str, arguments)) & {"creates", "removes"}:
            return True
        if isinstance(arguments, str) and ("creates=" in arguments or "removes=" in arguments):
            return True
    return False


# rule -> the edit that fixes it (Chiffon's rules and the ansible-lint rules they mirror).
_EDITS: dict[str, tuple[str, str, object]] = {
    "chiffon-package-latest": ("argument", "state", "present"),
    "package-latest": ("argument", "state", "present"),
    "chiffon-command-changed": ("key", "changed_when", False),
    "no-changed-when": ("key", "changed_when", False),
}


def file_kind(path: str) -> str:
    """How ``yamledit`` reads the repo file at ``path``."""
    parts = path.split("/")
    if len(parts) >= 4 and parts[0] == "roles" and parts[2] in ("tasks", "handlers"):
        return parts[2]
    return "playbook"


FixKey = tuple[str, int, tuple[str, str, object]]


def fix_key(path: str, rule: str, line: int | None) -> FixKey | None:
    """What a Chiffon fix depends on besides the text: the file, the task's line and the edit
    (the same for a Chiffon rule and the ansible-lint rule it mirrors); None: no fix."""
    edit = _EDITS.get(rule)
    return None if edit is None or line is None else (path, line, edit)


def chiffon_fix(text: str, path: str, rule: str, line: int | None) -> str | None:
    """``text`` with Chiffon's fix for ``rule`` applied to the task at ``line``; None when
    Chiffon has no fix for it or no task starts there. Raises ``YamlSyntaxError``."""
    edit = _EDITS.get(rule)
    if edit is None or line is None:
        return None
    how, key, value = edit
    try:
        if how == "argument":
            return yamledit.set_module_arg(text, file_kind(path), line, key, value)
        return yamledit.set_task_key(text, file_kind(path), line, key, value)
    except LookupError:
        return None
