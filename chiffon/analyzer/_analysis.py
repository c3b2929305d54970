"""Building an entry's suggestions: ansible-lint's findings merged with Chiffon's checks."""

from __future__ import annotations

import contextlib
import difflib
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._checks import FixKey, OwnFinding, SourceFile, check, chiffon_fix, fix_key
from ._rules import LINT_FIXABLE, SAME_AS_LINT, category_of, reasoning_of, rule_base
from .lint import LintFinding
from .yamledit import YamlSyntaxError


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_hash(root: Path, relative: str) -> str:
    """The hash of a repo file's text; "" when it cannot be read."""
    try:
        return text_hash((root / relative).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return ""


def files_key(entry_hash: str, files: list[SourceFile]) -> str:
    """The cache key: the catalog's hash of the entry and every file the analysis reads."""
    digest = hashlib.sha256(entry_hash.encode())
    for source in files:
        digest.update(f"\0{source.path}\0{text_hash(source.text)}".encode())
    return digest.hexdigest()


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(True), after.splitlines(True), f"a/{path}", f"b/{path}"
        )
    )


@dataclass
class Row:
    """A suggestion row's values before it is stored."""

    source: str
    rule: str
    message: str
    file: str
    line: int | None
    severity: str
    fix_text: str | None = None
    fix_by: str | None = None

    def values(self, texts: dict[str, str], root: Path) -> dict[str, Any]:
        before = texts.get(self.file)
        diff = None
        if self.fix_text is not None and before is not None:
            diff = unified_diff(self.file, before, self.fix_text)
        return {
            "source": self.source,
            "category": str(category_of(self.rule)),
            "rule": self.rule,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "severity": self.severity,
            "reasoning": reasoning_of(self.rule, self.message),
            "file_hash": text_hash(before) if before is not None else file_hash(root, self.file),
            "fix_by": self.fix_by,
            "fix_text": self.fix_text,
            "fix_diff": diff,
        }


# Chiffon's fixes are computed with the analysis for the first few (their diff shows at once);
# each one re-reads the whole file with ruamel, so the rest wait until a person asks.
EAGER_FIXES = 5


Fixes = dict[FixKey, str | None]


def _fix(texts: dict[str, str], path: str, rule: str, line: int | None) -> str | None:
    text = texts.get(path)
    if text is None:
        return None
    with contextlib.suppress(YamlSyntaxError):
        return chiffon_fix(text, path, rule, line)
    return None


def check_and_fix(files: list[SourceFile]) -> tuple[list[OwnFinding], Fixes]:
    """Chiffon's findings in ``files`` and the fixes of the first ``EAGER_FIXES`` fixable ones.
    Run while ansible-lint runs: the fixes are most of Chiffon's part of a cold analysis."""
    own = check(files)
    texts = {source.path: source.text for source in files}
    fixes: Fixes = {}
    for finding in [finding for finding in own if finding.fixable][:EAGER_FIXES]:
        key = fix_key(finding.file, finding.rule, finding.line)
        if key is not None:
            fixes[key] = _fix(texts, finding.file, finding.rule, finding.line)
    return own, fixes


def row_values(
    rows: list[Row], texts: dict[str, str], root: Path, ready: Fixes | None = None
) -> list[dict[str, Any]]:
    """Every row's column values, the first ``EAGER_FIXES`` Chiffon fixes computed (taken
    from ``ready`` when ``check_and_fix`` made them)."""
    ready = ready or {}
    eager = [row for row in rows if row.fix_by == "chiffon"][:EAGER_FIXES]
    for row in eager:
        key = fix_key(row.file, row.rule, row.line)
        if key is not None and key in ready:
            row.fix_text = ready[key]
        else:
            row.fix_text = _fix(texts, row.file, row.rule, row.line)
    return [row.values(texts, root) for row in rows]


def merge(lint_findings: tuple[LintFinding, ...], own: list[OwnFinding]) -> list[Row]:
    """ansible-lint's findings, then Chiffon's that ansible-lint did not make; a Chiffon fix
    moves onto the ansible-lint finding that says the same thing."""
    rows = []
    for finding in lint_findings:
        message = finding.message
        if finding.detail and finding.detail not in message:
            message = f"{message} {finding.detail}"
        fixable = rule_base(finding.rule) in LINT_FIXABLE
        rows.append(
            Row(
                "ansible-lint",
                finding.rule,
                message,
                finding.path,
                finding.line,
                finding.severity,
                fix_by="ansible-lint" if fixable else None,
            )
        )
    for mine in own:
        twin = SAME_AS_LINT.get(mine.rule)
        same = next((row for row in rows if twin and _same(row, twin, mine)), None)
        if same is not None:
            if same.fix_by is None and mine.fixable:
                same.fix_by = "chiffon"
            continue
        rows.append(
            Row(
                "chiffon",
                mine.rule,
                mine.message,
                mine.file,
                mine.line,
                mine.severity,
                fix_by="chiffon" if mine.fixable else None,
            )
        )
    return rows


def _same(row: Row, twin: str, mine: OwnFinding) -> bool:
    if row.source != "ansible-lint" or row.file != mine.file:
        return False
    if twin == "load-failure":  # the two parsers may stop on different lines
        return rule_base(row.rule) == twin
    return (row.rule == twin or rule_base(row.rule) == twin) and row.line == mine.line
