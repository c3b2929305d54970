"""The optional ``# chiffon:`` comment block at the top of a playbook.

    # chiffon:
    #   service: kuma
    #   description: Deploy Uptime Kuma as a container with a health check
    #   requires: [docker]
    #   rollback: kuma-remove.yml
    #   resources: {min_gpu_vram_mb: 0, min_cpu_cores: 1}
    #   generated: true     # written by Chiffon's draft generator; the executor refuses it
    #   reviewed: true      # until a person has reviewed it and said so here

It may follow other comments, blank lines and ``---``, but must come before the first YAML
content. The block ends at the first line that is not a comment, or at a comment indented no
deeper than ``chiffon:`` itself (so an ordinary comment after it is not swallowed).
"""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

from chiffon.catalog._yaml import json_safe, parse_yaml

_START = re.compile(r"^#(\s*)chiffon:(.*)$")
_STRING_KEYS = ("service", "description", "rollback")


def parse_header(text: str) -> tuple[dict[str, Any], str | None]:
    """Return ``(header, None)``, ``({}, None)`` when there is none, or ``({}, message)``."""
    lines = text.splitlines()
    start = _find_start(lines)
    if start is None:
        return {}, None
    block = _block(lines, start)
    body = textwrap.dedent("\n".join(line.lstrip()[1:] for line in block))
    data, error = parse_yaml(body, "the `# chiffon:` header", first_line=start + 1)
    if error is not None:
        # People write `description: Harden sshd: keys only` unquoted; read such free-text
        # values as the strings they obviously are before calling the header broken.
        data, retry_error = parse_yaml(_quote_free_text(body), "header", first_line=start + 1)
        if retry_error is not None:
            return {}, error
    header = data.get("chiffon") if isinstance(data, dict) else None
    if header is None:
        return {}, None
    if not isinstance(header, dict):
        return {}, f"the `# chiffon:` header (line {start + 1}) must be a mapping of keys"
    return _checked(header, start + 1)


_FREE_TEXT = re.compile(r"^(\s*)(" + "|".join(_STRING_KEYS) + r"):[ \t]+([^'\"\s\[{].*?)\s*$")


def _quote_free_text(body: str) -> str:
    def quote(line: str) -> str:
        found = _FREE_TEXT.match(line)
        if found is None:
            return line
        indent, key, value = found.groups()
        return f"{indent}{key}: {json.dumps(value)}"

    return "\n".join(quote(line) for line in body.splitlines())


def _find_start(lines: list[str]) -> int | None:
    for number, line in enumerate(lines):
        stripped = line.strip()
        if _START.match(stripped):
            return number
        if stripped and stripped != "---" and not stripped.startswith("#"):
            return None  # YAML content began: a header further down is just a comment
    return None


def _block(lines: list[str], start: int) -> list[str]:
    first = _START.match(lines[start].strip())
    assert first is not None
    block = [lines[start]]
    if first.group(2).strip():
        return block  # inline form: `# chiffon: {service: x}`
    indent = len(first.group(1))
    for line in lines[start + 1 :]:
        stripped = line.strip()
        if not stripped.startswith("#"):
            break
        content = stripped[1:]
        if content.strip() and len(content) - len(content.lstrip()) <= indent:
            break
        block.append(line)
    return block


def _checked(header: dict[Any, Any], line: int) -> tuple[dict[str, Any], str | None]:
    problems: list[str] = []
    for key in _STRING_KEYS:
        if key in header and not isinstance(header[key], str):
            problems.append(f"`{key}` must be a string")
    requires = header.get("requires")
    if isinstance(requires, str):
        header["requires"] = [requires]
    elif requires is not None and not (
        isinstance(requires, list) and all(isinstance(item, str) for item in requires)
    ):
        problems.append("`requires` must be a list of entry names")
    for key in ("generated", "reviewed"):  # a generated playbook runs only once reviewed
        if key in header and not isinstance(header[key], bool):
            problems.append(f"`{key}` must be true or false")
    resources = header.get("resources")
    if resources is not None and not isinstance(resources, dict):
        problems.append("`resources` must be a mapping such as {min_cpu_cores: 1}")
    elif resources:
        problems.extend(_resource_problems(resources))
    if problems:
        return {}, f"the `# chiffon:` header (line {line}): " + "; ".join(problems)
    safe: dict[str, Any] = json_safe(header)
    return safe, None


_RESOURCE_NUMBERS = ("min_gpu_vram_mb", "min_cpu_cores", "min_memory_mb")


def _resource_problems(resources: dict[Any, Any]) -> list[str]:
    problems = []
    unknown = sorted(str(key) for key in set(resources) - {*_RESOURCE_NUMBERS, "labels"})
    if unknown:
        problems.append(
            f"`resources` has unknown key(s) {', '.join(unknown)}; known: "
            + ", ".join((*_RESOURCE_NUMBERS, "labels"))
        )
    for key in _RESOURCE_NUMBERS:
        value = resources.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            problems.append(f"`resources.{key}` must be a number of 0 or more")
    labels = resources.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        problems.append("`resources.labels` must be a list of labels such as [gpu]")
    return problems
