"""Parsing one role folder (``roles/<name>/``) into a catalog entry."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from chiffon.catalog._entry import Entry, EntryKind, Variable
from chiffon.catalog._files import tree_files
from chiffon.catalog._tasks import SPECIAL_TAGS, TaskScan, unique
from chiffon.catalog._yaml import clean_text, json_safe, read_text, read_yaml

README_NAMES = ("README.md", "README.rst", "README.txt", "README", "readme.md", "Readme.md")
# What `ansible-galaxy role init` writes; it describes nothing.
_PLACEHOLDERS = frozenset({"your role description", "your description", "role description"})
_VAR_SUFFIXES = (".yml", ".yaml", ".json")
_UNDERLINE = frozenset("=-~^*+#`:'\"_")


def parse_role(root: Path, relative: str, content_hash: str) -> Entry:
    """Return the role's entry; a file that does not parse makes it invalid, with the error."""
    role_dir = root / relative
    name = role_dir.name
    files = dict(tree_files(root, role_dir))
    problems: list[str] = []

    def load(inner: str) -> Any:
        data, error = read_yaml(files[inner], f"{relative}/{inner}")
        if error is not None:
            problems.append(error)
        return data

    description = ""
    for inner in ("meta/main.yml", "meta/main.yaml"):
        if inner in files:
            description = _galaxy_description(load(inner))
            break
    if not description:
        description = next(
            (readme_paragraph(files[n], relative) for n in README_NAMES if n in files), ""
        )

    variables: list[Variable] = []
    for inner in sorted((f for f in files if _is_vars_file(f)), key=_vars_order):
        data = load(inner)
        if isinstance(data, dict):
            variables.extend(
                Variable(clean_text(str(key), 255), json_safe(value), inner)
                for key, value in data.items()
            )
        elif data is not None:
            problems.append(f"{relative}/{inner} must be a mapping of variables")

    scan = TaskScan()
    for inner in sorted((f for f in files if _is_yaml_under(f, "tasks/")), key=_main_first):
        scan.walk(load(inner), f"{relative}/{inner}")
    for inner in (f for f in files if _is_yaml_under(f, "handlers/")):
        load(inner)  # only to report a broken handlers file: Ansible would refuse the role
    problems.extend(scan.problems)

    return Entry(
        id=None,
        kind=EntryKind.ROLE,
        name=clean_text(name, 255),
        path=relative,
        role=clean_text(name, 255),
        description=clean_text(description),
        service=None,
        tags=tuple(tag for tag in unique(scan.tags) if tag not in SPECIAL_TAGS),
        variables=tuple(variables),
        hosts=None,
        task_names=tuple(scan.names),
        header={},
        content_hash=content_hash,
        valid=not problems,
        error=clean_text("; ".join(problems)) if problems else None,
        become=scan.become,
    )


def _galaxy_description(meta: Any) -> str:
    info = meta.get("galaxy_info") if isinstance(meta, dict) else None
    text = info.get("description") if isinstance(info, dict) else None
    if not isinstance(text, str) or text.strip().lower() in _PLACEHOLDERS:
        return ""
    return " ".join(text.split())


def readme_paragraph(path: Path, label: str) -> str:
    """The README's first paragraph of prose: headings, badges and title underlines skipped."""
    text, _error = read_text(path, label)
    paragraph: list[str] = []
    for line in (text or "").splitlines():
        stripped = line.strip()
        if not stripped:
            if paragraph:
                break
            continue
        if set(stripped) <= _UNDERLINE:
            if len(paragraph) == 1:
                paragraph.clear()  # that line was an reStructuredText title
                continue
            if paragraph:
                break
            continue
        if stripped.startswith(("#", "[![", "![", "<", "```", "..")):
            if paragraph:
                break
            continue
        paragraph.append(stripped)
    return " ".join(paragraph)


def _is_yaml_under(inner: str, folder: str) -> bool:
    return inner.startswith(folder) and inner.endswith((".yml", ".yaml"))


def _is_vars_file(inner: str) -> bool:
    if not inner.startswith(("defaults/", "vars/")):
        return False
    path = PurePosixPath(inner)
    return path.suffix in _VAR_SUFFIXES or (path.suffix == "" and path.name == "main")


def _main_first(inner: str) -> tuple[int, str]:
    path = PurePosixPath(inner)
    return (0 if path.stem == "main" and len(path.parts) == 2 else 1, inner)


def _vars_order(inner: str) -> tuple[int, int, str]:
    # Defaults before vars, each with main.yml first, as Ansible reads them.
    return (0 if inner.startswith("defaults/") else 1, *_main_first(inner))
