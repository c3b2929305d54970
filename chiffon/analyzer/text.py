"""Diagnoses and suggestions as terminal text (``chiffon diagnose`` / ``chiffon analyze``)."""

from __future__ import annotations

import textwrap

from ._types import Analysis, Diagnosed

__all__ = ["analysis_text", "diagnosis_text"]


def _wrap(text: str, indent: str = "  ") -> str:
    return textwrap.fill(text, 96, initial_indent=indent, subsequent_indent=indent)


def analysis_text(analysis: Analysis) -> str:
    lines = [f"{analysis.entry} ({analysis.entry_path})"]
    if analysis.lint_error:
        lines.append(f"ansible-lint: {analysis.lint_error}")
    for s in analysis.suggestions:
        where = f"{s.file}:{s.line}" if s.line else s.file
        lines.append(f"#{s.id} [{s.category}] {s.rule} {where} ({s.severity}, {s.status})")
        lines.append(_wrap(s.message))
        lines.append(_wrap(f"Why: {s.reasoning}"))
        if s.fix_by:
            lines.append(f"  fix: by {s.fix_by}" + (" (diff ready)" if s.fix_diff else ""))
    opened = sum(s.status == "open" for s in analysis.suggestions)
    cached = ", cached" if analysis.cached else ""
    lines.append(f"{len(analysis.suggestions)} suggestions, {opened} open{cached}")
    return "\n".join(lines)


def diagnosis_text(diagnosed: Diagnosed) -> str:
    d = diagnosed.diagnosis
    where = f"{d.file}:{d.line}" if d.file and d.line else (d.file or "?")
    lines = [
        f"Run {d.run_id}: {d.title}",
        f"  task: {d.task or '-'}  host: {', '.join(d.hosts) or '-'}  module: {d.module or '-'}",
        f"  where: {where}",
        "",
        _wrap(d.explanation),
        "",
        _wrap(f"What to do: {d.remedy}"),
    ]
    if d.error:
        lines += ["", "Error:", textwrap.indent(d.error.strip(), "  ")]
    if d.narrative:
        lines += ["", _wrap(d.narrative)]
    if diagnosed.analysis is not None:
        lines += ["", analysis_text(diagnosed.analysis)]
    elif diagnosed.analysis_error:
        lines += ["", diagnosed.analysis_error]
    return "\n".join(lines)
