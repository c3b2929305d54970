"""Parsing one playbook file into a catalog entry and the roles it applies with tags."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from chiffon.catalog._entry import Entry, EntryKind, Variable
from chiffon.catalog._header import parse_header
from chiffon.catalog._tasks import SPECIAL_TAGS, TaskScan, as_tags, is_true, role_of, unique
from chiffon.catalog._yaml import clean_text, json_safe, parse_yaml, read_text

IMPORT_PLAYBOOK = frozenset(
    f"{prefix}import_playbook" for prefix in ("", "ansible.builtin.", "ansible.legacy.")
)
# Keys only a play has; a list whose mappings carry none of them is a task or vars file.
PLAY_SIGNS = (
    frozenset({"hosts", "roles", "tasks", "pre_tasks", "post_tasks", "vars_prompt"})
    | IMPORT_PLAYBOOK
)


@dataclass(frozen=True)
class RoleUse:
    """A site playbook applies ``role`` to ``hosts`` when run with ``--tags tag``."""

    tag: str
    role: str
    hosts: str | None
    play_variables: tuple[Variable, ...]
    become: bool = False


@dataclass(frozen=True)
class ParsedPlaybook:
    entry: Entry
    role_uses: tuple[RoleUse, ...]


def looks_like_plays(data: Any) -> bool:
    """True when ``data`` is a list holding at least one mapping with a play's keys."""
    return isinstance(data, list) and any(
        isinstance(item, dict) and not PLAY_SIGNS.isdisjoint(item) for item in data
    )


def invalid_entry(
    kind: EntryKind, relative: str, name: str, content_hash: str, error: str
) -> Entry:
    """An entry for a file that could not be read or parsed: listed, but not runnable."""
    return Entry(
        id=None,
        kind=kind,
        name=name,
        path=relative,
        role=name if kind is EntryKind.ROLE else None,
        description="",
        service=None,
        tags=(),
        variables=(),
        hosts=None,
        task_names=(),
        header={},
        content_hash=content_hash,
        valid=False,
        error=clean_text(error),
    )


def parse_playbook(root: Path, relative: str, content_hash: str) -> ParsedPlaybook | None:
    """Return the parsed playbook, an invalid entry when it does not parse, or None when the
    file is valid YAML but not a list of plays (a vars file, a task list, an empty file)."""
    name = PurePosixPath(relative).stem
    text, error = read_text(root / relative, relative)
    if text is None:
        return ParsedPlaybook(
            invalid_entry(EntryKind.PLAYBOOK, relative, name, content_hash, error or ""), ()
        )
    data, error = parse_yaml(text, relative)
    if error is not None:
        return ParsedPlaybook(
            invalid_entry(EntryKind.PLAYBOOK, relative, name, content_hash, error), ()
        )
    if not looks_like_plays(data):
        return None
    header, header_error = parse_header(text)
    reader = _PlayReader()
    if header_error:
        reader.scan.problems.append(header_error)
    for number, play in enumerate(data, start=1):
        reader.read(play, f"play {number}")
    scan = reader.scan
    description = header.get("description") or next(iter(reader.play_names), "")
    entry = Entry(
        id=None,
        kind=EntryKind.PLAYBOOK,
        name=clean_text(name, 255),
        path=relative,
        role=None,
        description=clean_text(description),
        service=clean_text(header["service"], 255) if header.get("service") else None,
        tags=tuple(tag for tag in unique(scan.tags) if tag not in SPECIAL_TAGS),
        variables=unique_variables(reader.variables),
        hosts=clean_text(",".join(unique(reader.hosts)), 1024) or None,
        task_names=tuple(scan.names),
        header=header,
        content_hash=content_hash,
        valid=not scan.problems,
        error=clean_text("; ".join(scan.problems)) if scan.problems else None,
        become=scan.become,
    )
    return ParsedPlaybook(entry, tuple(reader.uses))


class _PlayReader:
    """Collects what the plays of one playbook declare, noting problems instead of raising."""

    def __init__(self) -> None:
        self.scan = TaskScan()
        self.hosts: list[str] = []
        self.play_names: list[str] = []
        self.variables: list[Variable] = []
        self.uses: list[RoleUse] = []

    def read(self, play: Any, where: str) -> None:
        problems = self.scan.problems
        if not isinstance(play, dict):
            problems.append(f"{where} is not a play (a mapping with `hosts`)")
            return
        if not IMPORT_PLAYBOOK.isdisjoint(play):
            return  # the imported file is an entry of its own when it is in the repo
        if "hosts" not in play:
            problems.append(f"{where} has no `hosts`")
        hosts = _hosts(play.get("hosts"))
        if hosts:
            self.hosts.append(hosts)
        name = play.get("name")
        if isinstance(name, str) and name.strip():
            self.play_names.append(name.strip())
        play_become = is_true(play.get("become"))
        self.scan.become = self.scan.become or play_become
        variables = _play_vars(play.get("vars"), where, problems)
        variables += _prompts(play.get("vars_prompt"), where, problems)
        self.variables.extend(variables)
        play_tags = as_tags(play.get("tags"))
        self.scan.tags.extend(play_tags)
        applied: list[tuple[str, list[str]]] = []
        roles = play.get("roles")
        if roles is not None and not isinstance(roles, list):
            problems.append(f"{where} `roles` must be a list")
            roles = []
        for number, item in enumerate(roles or [], start=1):
            role = role_of(item)
            if role is None:
                problems.append(f"{where} roles item {number} names no role")
                continue
            tags = [*play_tags, *(as_tags(item.get("tags")) if isinstance(item, dict) else [])]
            self.scan.tags.extend(tags)
            applied.append((role, tags))
        imported = len(self.scan.role_imports)
        for section in ("pre_tasks", "tasks", "post_tasks"):
            self.scan.walk(play.get(section), f"{where} {section}", play_tags)
        applied.extend(self.scan.role_imports[imported:])
        frozen = tuple(variables)
        for role, tags in applied:
            for tag in unique(tags):
                if tag not in SPECIAL_TAGS:
                    self.uses.append(
                        RoleUse(tag, clean_text(role, 255), hosts, frozen, play_become)
                    )


def _hosts(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ",".join(str(item) for item in value) or None
    return str(value).strip() or None


def _play_vars(value: Any, where: str, problems: list[str]) -> list[Variable]:
    if value is None:
        return []
    mappings = value if isinstance(value, list) else [value]
    if not all(isinstance(item, dict) for item in mappings):
        problems.append(f"{where} `vars` must be a mapping")
        return []
    return [
        Variable(clean_text(str(key), 255), json_safe(default), "play vars")
        for mapping in mappings
        for key, default in mapping.items()
    ]


def _prompts(value: Any, where: str, problems: list[str]) -> list[Variable]:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"{where} `vars_prompt` must be a list")
        return []
    variables: list[Variable] = []
    for number, prompt in enumerate(value, start=1):
        if not isinstance(prompt, dict) or not prompt.get("name"):
            problems.append(f"{where} vars_prompt item {number} has no `name`")
            continue
        name = clean_text(str(prompt["name"]), 255)
        variables.append(Variable(name, json_safe(prompt.get("default")), "vars_prompt"))
    return variables


def unique_variables(variables: list[Variable]) -> tuple[Variable, ...]:
    """``variables`` without repeated (name, source) pairs, first one kept."""
    seen: dict[tuple[str, str], Variable] = {}
    for variable in variables:
        seen.setdefault((variable.name, variable.source), variable)
    return tuple(seen.values())
