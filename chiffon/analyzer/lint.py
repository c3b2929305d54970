"""The ansible-lint adapter: the only place that runs it (a subprocess, never imported).

``lint`` runs ``ansible-lint --offline -f codeclimate`` on paths of the playbook repo and
returns its findings; ``fix`` runs ``--fix=RULE`` on a scratch copy of one file and returns the
file's fixed text. Both await an asyncio subprocess, so the event loop never waits on the
linter, and a cancelled call kills it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["LintFinding", "LintReport", "default_executable", "fix", "lint"]

# ansible-lint exits 0 when clean and 2 when it found something; anything else is a failure.
_OK_CODES = (0, 2)
_CONFIGS = (".ansible-lint", ".config/ansible-lint.yml", "ansible.cfg", ".yamllint")


@dataclass(frozen=True)
class LintFinding:
    rule: str
    message: str
    detail: str
    path: str  # relative to the playbook repo
    line: int | None
    severity: str  # codeclimate: info, minor, major, critical, blocker


@dataclass(frozen=True)
class LintReport:
    findings: tuple[LintFinding, ...]
    error: str | None  # why there are no findings to trust (missing, crashed, timed out)
    seconds: float


def default_executable() -> str:
    """The ansible-lint installed beside the running Python, else the one on PATH."""
    beside = Path(sys.executable).parent / "ansible-lint"
    return str(beside) if beside.exists() else "ansible-lint"


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env.update(NO_COLOR="1", ANSIBLE_NOCOLOR="1", PY_COLORS="0")
    env.pop("FORCE_COLOR", None)
    return env


@dataclass(frozen=True)
class _Finished:
    returncode: int
    stdout: str
    stderr: str


async def _execute(
    executable: str, cwd: Path, arguments: list[str], timeout_s: float
) -> _Finished | str:
    """The finished process, or a sentence saying why it could not run."""
    command = [executable, "--offline", "--nocolor", "--project-dir", ".", *arguments]
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=cwd,
            env=_environment(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError:
        return (
            f"ansible-lint is not installed ({executable} not found): install it with "
            "`pip install ansible-lint` or set CHIFFON_ANSIBLE_LINT to its path. The diagnosis "
            "and Chiffon's own checks still work."
        )
    except PermissionError:
        return f"ansible-lint at {executable} cannot be executed (permission denied)."
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout_s)
    except TimeoutError:
        await _kill(process)
        return f"ansible-lint did not finish within {timeout_s:g} s and was stopped."
    except asyncio.CancelledError:
        await _kill(process)
        raise
    return _Finished(
        process.returncode if process.returncode is not None else -1,
        stdout.decode("utf-8", "replace"),
        stderr.decode("utf-8", "replace"),
    )


async def _kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
        await process.wait()


def _tail(text: str, lines: int = 6) -> str:
    kept = [line for line in text.strip().splitlines() if "PATH altered" not in line]
    return "\n".join(kept[-lines:])


async def lint(
    executable: str, root: Path, targets: list[str], timeout_s: float = 120
) -> LintReport:
    """ansible-lint's findings for ``targets`` (paths relative to ``root``)."""
    started = time.perf_counter()
    outcome = await _execute(executable, root, ["-f", "codeclimate", *targets], timeout_s)
    seconds = round(time.perf_counter() - started, 3)
    if isinstance(outcome, str):
        return LintReport((), outcome, seconds)
    try:
        issues = json.loads(outcome.stdout or "[]")
        if not isinstance(issues, list):
            raise ValueError("not a list")
    except ValueError:
        issues = None
    if issues is None or outcome.returncode not in _OK_CODES:
        why = _tail(outcome.stderr) or _tail(outcome.stdout) or "no output"
        return LintReport(
            (), f"ansible-lint failed (exit code {outcome.returncode}): {why}", seconds
        )
    return LintReport(tuple(_finding(root, issue) for issue in issues), None, seconds)


def _finding(root: Path, issue: dict[str, Any]) -> LintFinding:
    location = issue.get("location") or {}
    line = (location.get("lines") or {}).get("begin")
    if line is None:
        line = ((location.get("positions") or {}).get("begin") or {}).get("line")
    path = str(location.get("path", ""))
    if os.path.isabs(path):
        with contextlib.suppress(ValueError):  # outside the repo: keep it as ansible-lint said
            path = Path(path).resolve().relative_to(root.resolve()).as_posix()
    return LintFinding(
        rule=str(issue.get("check_name", "unknown")),
        message=str(issue.get("description", "")),
        detail=str((issue.get("content") or {}).get("body", "")),
        path=path,
        line=int(line) if isinstance(line, int) else None,
        severity=str(issue.get("severity", "major")),
    )


async def fix(
    executable: str, root: Path, relative: str, rule: str, timeout_s: float = 120
) -> tuple[str | None, str | None]:
    """(the text of ``relative`` after ``ansible-lint --fix=rule``, or None when it changed
    nothing; an error sentence or None). Works on a scratch copy: the repo is not touched."""
    with tempfile.TemporaryDirectory(prefix="chiffon-fix-") as scratch:
        copy = Path(scratch)
        before = await asyncio.to_thread(_copy_for_fix, root, copy, relative)
        if before is None:
            return None, f"{relative} cannot be read in the playbook repo."
        outcome = await _execute(executable, copy, [f"--fix={rule}", relative], timeout_s)
        if isinstance(outcome, str):
            return None, outcome
        if outcome.returncode not in _OK_CODES:
            why = _tail(outcome.stderr) or "no output"
            return None, f"ansible-lint --fix failed (exit code {outcome.returncode}): {why}"
        after = await asyncio.to_thread((copy / relative).read_text, encoding="utf-8")
        return (after if after != before else None), None


def _copy_for_fix(root: Path, copy: Path, relative: str) -> str | None:
    for name in (relative, *_CONFIGS):
        source = root / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, copy / name)
    try:
        return (copy / relative).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
