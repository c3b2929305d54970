"""Reading task lists: names, tags and the roles they import, tolerating anything."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chiffon.catalog._yaml import clean_text

# Tags that select nothing by themselves, so they never become catalog entries.
SPECIAL_TAGS = frozenset({"always", "never", "all", "tagged", "untagged"})
ROLE_ACTIONS = frozenset(
    f"{prefix}{action}"
    for prefix in ("", "ansible.builtin.", "ansible.legacy.")
    for action in ("import_role", "include_role")
)
_INCLUDES = frozenset(
    f"{prefix}{action}"
    for prefix in ("", "ansible.builtin.", "ansible.legacy.")
    for action in ("import_tasks", "include_tasks", "include")
)
# Keywords a task may carry besides its action; the action is the key left over.
TASK_KEYWORDS = frozenset(
    {
        "name",
        "when",
        "tags",
        "register",
        "loop",
        "loop_control",
        "until",
        "retries",
        "delay",
        "vars",
        "environment",
        "ignore_errors",
        "ignore_unreachable",
        "changed_when",
        "failed_when",
        "notify",
        "listen",
        "delegate_to",
        "delegate_facts",
        "run_once",
        "no_log",
        "args",
        "become",
        "become_user",
        "become_method",
        "become_flags",
        "become_exe",
        "check_mode",
        "diff",
        "any_errors_fatal",
        "throttle",
        "timeout",
        "collections",
        "module_defaults",
        "connection",
        "debugger",
        "remote_user",
        "port",
        "poll",
        "async",
        "local_action",
        "action",
    }
)
_MAX_TASKS = 10_000  # aliases can make a small file describe millions of tasks


def as_tags(value: Any) -> list[str]:
    """Ansible's ``tags:`` as a list of strings (it accepts a string, a list, or numbers)."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        items = [items]
    tags = [clean_text(str(item).strip(), 255) for item in items if not isinstance(item, dict)]
    return [tag for tag in tags if tag]


@dataclass
class TaskScan:
    """What a walk over task lists found; ``problems`` makes the entry invalid."""

    names: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    role_imports: list[tuple[str, list[str]]] = field(default_factory=list)  # (role, tags)
    problems: list[str] = field(default_factory=list)
    budget: int = _MAX_TASKS
    become: bool = False  # some task or block escalates privileges

    def walk(self, tasks: Any, where: str, inherited: list[str] | None = None) -> None:
        """Record names, tags and role imports of ``tasks`` (a list, possibly with blocks)."""
        if tasks is None:
            return
        if not isinstance(tasks, list):
            self.problems.append(f"{where} must be a list of tasks, not {_kind(tasks)}")
            return
        for number, task in enumerate(tasks, start=1):
            self.budget -= 1
            if self.budget < 0:
                self.problems.append(f"{where}: more than {_MAX_TASKS} tasks")
                return
            if not isinstance(task, dict):
                self.problems.append(f"{where} item {number} is {_kind(task)}, not a task")
                continue
            tags = [*(inherited or []), *as_tags(task.get("tags"))]
            self.tags.extend(tags)
            self.become = self.become or is_true(task.get("become"))
            if "block" in task:
                for part in ("block", "rescue", "always"):
                    self.walk(task.get(part), f"{where} item {number} {part}", tags)
                continue
            self._task(task, tags)

    def _task(self, task: dict[Any, Any], tags: list[str]) -> None:
        action = _action(task)
        if action in ROLE_ACTIONS:
            options = task.get(action)
            role = _role_name(options)
            apply = options.get("apply") if isinstance(options, dict) else None
            extra = as_tags(apply.get("tags")) if isinstance(apply, dict) else []
            if role:
                self.role_imports.append((role, [*tags, *extra]))
        name = task.get("name")
        if isinstance(name, str) and name.strip():
            self.names.append(clean_text(name.strip(), 1000))
        elif action and action not in _INCLUDES and action not in ROLE_ACTIONS:
            # Ansible shows an unnamed task by its action; so do we.
            self.names.append(clean_text(action, 1000))


def _action(task: dict[Any, Any]) -> str | None:
    for key in task:
        if isinstance(key, str) and key not in TASK_KEYWORDS and not key.startswith("with_"):
            return key
    for key in ("action", "local_action"):
        value = task.get(key)
        if isinstance(value, str) and value.split():
            return value.split()[0]
        if isinstance(value, dict) and isinstance(value.get("module"), str):
            return str(value["module"])
    return None


def _role_name(value: Any) -> str | None:
    if isinstance(value, str):  # `import_role: name=web` (old key=value form)
        for part in value.split():
            if part.startswith("name="):
                return part[len("name=") :] or None
        return None
    if isinstance(value, dict):
        name = value.get("name") or value.get("role")
        return str(name) if name else None
    return None


def role_of(item: Any) -> str | None:
    """The role name in one ``roles:`` item (a string or a mapping with role/name)."""
    if isinstance(item, str):
        return item.strip() or None
    if isinstance(item, dict):
        name = item.get("role") or item.get("name")
        return str(name) if name else None
    return None


def _kind(value: Any) -> str:
    names = {str: "a string", int: "a number", float: "a number", bool: "a boolean"}
    if value is None:
        return "empty"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return names.get(type(value), type(value).__name__)


def is_true(value: Any) -> bool:
    """True for YAML's and Ansible's spellings of yes (a template counts: it may be yes)."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and (
        value.strip().lower() in {"yes", "true", "on", "1"} or "{{" in value
    )


def unique(items: list[str]) -> tuple[str, ...]:
    """``items`` without repeats, first occurrence first."""
    return tuple(dict.fromkeys(items))
