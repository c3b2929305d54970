"""The ruamel.yaml adapter: read tasks with their line numbers, and edit a task in place
keeping comments, quotes and layout. The only file that imports ruamel.yaml."""

from __future__ import annotations

import difflib
import functools
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

__all__ = ["FileShape", "TaskNode", "YamlSyntaxError", "read", "set_module_arg", "set_task_key"]

_TASK_LISTS = ("pre_tasks", "tasks", "post_tasks")
_BLOCK_LISTS = ("block", "rescue", "always")
# Keys of a task that are not its module (what remains is the module and its arguments).
_KEYWORDS = frozenset(
    [
        "name",
        "when",
        "loop",
        "loop_control",
        "register",
        "notify",
        "tags",
        "become",
        "become_user",
        "become_method",
        "become_flags",
        "changed_when",
        "failed_when",
        "ignore_errors",
        "ignore_unreachable",
        "no_log",
        "delegate_to",
        "delegate_facts",
        "run_once",
        "environment",
        "vars",
        "args",
        "async",
        "poll",
        "retries",
        "delay",
        "until",
        "check_mode",
        "diff",
        "listen",
        "any_errors_fatal",
        "throttle",
        "timeout",
        "module_defaults",
        "collections",
        "connection",
        "debugger",
        "remote_user",
        "port",
        "action",
        "local_action",
        "block",
        "rescue",
        "always",
        "include_tasks",
        "import_tasks",
        "include_role",
        "import_role",
    ]
)
_INDENTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4))


class YamlSyntaxError(Exception):
    """The text is not valid YAML; ``line`` is 1-based where the parser stopped."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class TaskNode:
    line: int  # 1-based, the line of the task's first key
    name: str | None
    module: str | None
    keys: frozenset[str]
    module_args: Any  # the module's arguments (a mapping, a string, or None)
    args: Any  # the task's ``args:`` (more module arguments), or None
    notify: tuple[str, ...]
    looped: bool
    handler: bool
    listen: tuple[str, ...]


@dataclass(frozen=True)
class FileShape:
    tasks: tuple[TaskNode, ...]  # tasks and handlers, in file order
    roles: tuple[str, ...]  # roles the plays apply (by name)


def _yaml(indent: tuple[int, int, int] = _INDENTS[0]) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    mapping, sequence, offset = indent
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _load(text: str) -> Any:
    try:
        return _yaml().load(text)
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise YamlSyntaxError(str(problem), line) from None


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(item) for item in value if isinstance(item, str | int))
    return ()


def _node(task: CommentedMap, handler: bool) -> TaskNode:
    keys = frozenset(str(key) for key in task)
    module = next(
        (k for k in map(str, task) if k not in _KEYWORDS and not k.startswith("with_")), None
    )
    return TaskNode(
        line=task.lc.line + 1,
        name=str(task["name"]) if task.get("name") is not None else None,
        module=module,
        keys=keys,
        module_args=task.get(module) if module else None,
        args=task.get("args"),
        notify=_names(task.get("notify")),
        looped="loop" in keys or any(k.startswith("with_") for k in keys),
        handler=handler,
        listen=_names(task.get("listen")),
    )


def _walk(tasks: Any, handler: bool) -> Iterator[tuple[CommentedMap, bool]]:
    if not isinstance(tasks, CommentedSeq):
        return
    for task in tasks:
        if not isinstance(task, CommentedMap):
            continue
        if any(key in task for key in _BLOCK_LISTS):
            for key in _BLOCK_LISTS:
                yield from _walk(task.get(key), handler)
            continue
        yield task, handler


def _task_maps(document: Any, kind: str) -> Iterator[tuple[CommentedMap, bool]]:
    if kind == "tasks":
        yield from _walk(document, False)
    elif kind == "handlers":
        yield from _walk(document, True)
    elif isinstance(document, CommentedSeq):
        for play in document:
            if isinstance(play, CommentedMap):
                for key in _TASK_LISTS:
                    yield from _walk(play.get(key), False)
                yield from _walk(play.get("handlers"), True)


def _roles(document: Any) -> tuple[str, ...]:
    found: list[str] = []
    if isinstance(document, CommentedSeq):
        for play in document:
            roles = play.get("roles") if isinstance(play, CommentedMap) else None
            for role in roles if isinstance(roles, list) else []:
                name = role.get("role") or role.get("name") if isinstance(role, dict) else role
                if isinstance(name, str):
                    found.append(name)
    return tuple(found)


def read(text: str, kind: str) -> FileShape:
    """The tasks of ``text``: ``kind`` is "playbook", "tasks" or "handlers".

    Raises ``YamlSyntaxError`` when it is not YAML."""
    document = _load(text)
    tasks = tuple(_node(task, handler) for task, handler in _task_maps(document, kind))
    return FileShape(tasks=tasks, roles=_roles(document) if kind == "playbook" else ())


def _dump(yaml: YAML, document: Any, indent: tuple[int, int, int]) -> str:
    stream = io.StringIO()
    yaml.dump(document, stream)
    out = stream.getvalue()
    offset = indent[2]
    if isinstance(document, CommentedSeq) and offset:
        # ruamel indents a top-level sequence by the offset too; playbooks start at column 0.
        pad = " " * offset
        out = "".join(
            line[offset:] if line.startswith(pad) else line for line in out.splitlines(True)
        )
    return out


@functools.lru_cache(maxsize=64)
def _indent_of(text: str) -> tuple[int, int, int]:
    # The layout under which the unchanged text dumps back as it was (else the first).
    for indent in _INDENTS:
        yaml = _yaml(indent)
        if _dump(yaml, yaml.load(text), indent) == text:
            return indent
    return _INDENTS[0]


def _keep_layout(original: str, edited: str) -> str:
    """``edited``, with every line that differs from ``original`` only in spacing (ruamel
    re-spaces comments, for one) put back as it was: the diff shows the real change only."""
    before, after = original.splitlines(True), edited.splitlines(True)
    matcher = difflib.SequenceMatcher(
        a=[" ".join(line.split()) for line in before],
        b=[" ".join(line.split()) for line in after],
        autojunk=False,
    )
    out: list[str] = []
    for tag, a_start, a_end, b_start, b_end in matcher.get_opcodes():
        out.extend(before[a_start:a_end] if tag == "equal" else after[b_start:b_end])
    return "".join(out)


def _edit(text: str, kind: str, line: int, change: Any) -> str:
    indent = _indent_of(text)
    yaml = _yaml(indent)
    document = yaml.load(text)
    for task, _ in _task_maps(document, kind):
        if task.lc.line + 1 == line:
            change(task)
            return _keep_layout(text, _dump(yaml, document, indent))
    raise LookupError(f"no task starts at line {line}")


def set_task_key(text: str, kind: str, line: int, key: str, value: Any) -> str:
    """``text`` with ``key: value`` added to (or replaced in) the task at ``line``, placed
    right after the module. Raises ``LookupError`` when no task starts there."""

    def change(task: CommentedMap) -> None:
        if key in task:
            task[key] = value
            return
        node = _node(task, False)
        keys = list(task)
        position = keys.index(node.module) + 1 if node.module in keys else len(keys)
        task.insert(position, key, value)

    return _edit(text, kind, line, change)


def set_module_arg(text: str, kind: str, line: int, argument: str, value: Any) -> str:
    """``text`` with the module argument ``argument`` of the task at ``line`` set to
    ``value``. Raises ``LookupError`` when no task with mapping arguments starts there."""

    def change(task: CommentedMap) -> None:
        node = _node(task, False)
        arguments = task.get(node.module) if node.module else None
        if not isinstance(arguments, CommentedMap):
            raise LookupError(f"the task at line {line} has no argument mapping")
        arguments[argument] = value

    return _edit(text, kind, line, change)
