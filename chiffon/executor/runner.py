"""The ansible-runner adapter: the only file that imports ansible_runner.

``run_job`` is blocking and meant for a worker thread: a ``RunnerJob`` goes in, each ansible
event comes out through ``on_event`` as a ``RunnerEvent``, and a ``RunnerOutcome`` is returned.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ansible_runner
import ptyprocess  # ansible-runner's pseudo-terminal, under pexpect

from ._usage import ResourceUsage, UsageMeter

RUN_MARKER = "CHIFFON_RUN"  # =<correlation id> in the environment of every process of a run
HOLD_SOCKET = "hold"  # in a held job's folder, beside its ansible-playbook (``headstart``)
_HELD_PLAYBOOK = Path(__file__).with_name("held_playbook.py")
_MAX_FIELD = 8_000
_RESULT_KEYS = ("msg", "rc", "stderr", "stdout", "cmd", "module_stderr", "exception", "reason")
_EVENT_KEYS = ("play", "play_pattern", "task_action", "task_path", "role", "duration", "name")
_STATS_KEYS = ("ok", "changed", "failures", "dark", "skipped", "rescued", "ignored")
_SETTINGS = {
    "pexpect_timeout": 0.2,  # how often the cancel callback is asked: cancel takes < 1 s
    "suppress_ansible_output": True,  # the events carry the output: no copy on our stdout
    "suppress_output_file": True,  # nor in the scratch dir (a write and a flush per event)
}


_close_pty = ptyprocess.PtyProcess.close


def _close_pty_of_reaped_child(pty: ptyprocess.PtyProcess, force: bool = True) -> None:
    """``PtyProcess.close`` without its 0.1 s sleep (time "for the kernel to update the process
    status") once the child has been reaped: ansible-runner closes the pty when ``isalive()``
    has said the process is gone, so every run waited 0.1 s after ansible-playbook exited."""
    if pty.terminated:
        pty.delayafterclose = 0
    _close_pty(pty, force)


ptyprocess.PtyProcess.close = _close_pty_of_reaped_child


@dataclass(frozen=True)
class RunnerJob:
    marker: str  # the run's correlation id: finds its processes even after a crash
    private_data_dir: Path
    project_dir: Path
    inventory: str
    playbook: str | None = None  # relative to project_dir
    role: str | None = None  # run a role directly instead of a playbook
    role_hosts: str = "all"
    limit: str | None = None
    tags: str | None = None
    extra_vars: dict[str, Any] = field(default_factory=dict)
    check: bool = False
    # A folder from ``write_held_command``: its ansible-playbook waits on the socket there.
    hold: Path | None = None


@dataclass(frozen=True)
class RunnerEvent:
    seq: int
    type: str
    host: str | None
    task: str | None
    stdout: str
    data: dict[str, Any]
    created_at: dt.datetime


@dataclass(frozen=True)
class RunnerOutcome:
    status: str  # successful | failed | canceled | timeout
    rc: int | None
    error: str | None = None
    usage: ResourceUsage | None = None  # None when ansible never started


def _trim(value: Any) -> Any:
    if isinstance(value, str) and len(value) > _MAX_FIELD:
        return value[:_MAX_FIELD] + f"... ({len(value) - _MAX_FIELD} more characters)"
    return value


def _event_data(kind: str, raw: dict[str, Any]) -> dict[str, Any]:
    """The small, useful part of ansible-runner's event_data (never module args or env)."""
    data = {key: raw[key] for key in _EVENT_KEYS if raw.get(key) not in (None, "")}
    if kind == "playbook_on_stats":
        data["stats"] = {key: raw.get(key) or {} for key in _STATS_KEYS}
    result = raw.get("res")
    if kind in ("runner_on_ok", "runner_item_on_ok") and isinstance(result, dict):
        data["changed"] = bool(result.get("changed"))
    if kind in ("runner_on_failed", "runner_on_unreachable", "runner_item_on_failed") and (
        isinstance(result, dict)
    ):
        data["result"] = {k: _trim(result[k]) for k in _RESULT_KEYS if k in result}
        data["ignore_errors"] = bool(raw.get("ignore_errors"))
    return data


def _to_event(raw: dict[str, Any]) -> RunnerEvent:
    event_data = raw.get("event_data") or {}
    created = raw.get("created")
    try:
        when = dt.datetime.fromisoformat(created) if created else dt.datetime.now(dt.UTC)
    except ValueError:
        when = dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    kind = str(raw.get("event", "verbose"))
    return RunnerEvent(
        seq=int(raw.get("counter", 0)),
        type=kind,
        host=event_data.get("host") or event_data.get("remote_addr"),
        task=event_data.get("task") or None,
        stdout=_trim(raw.get("stdout") or ""),
        data=_event_data(kind, event_data),
        created_at=when,
    )


def _search_path() -> str:
    # ansible-runner needs ansible-playbook on PATH: the one installed beside this Python.
    return str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")


def _environment(job: RunnerJob) -> dict[str, str]:
    environment = {
        "PATH": _search_path(),
        RUN_MARKER: job.marker,
        "ANSIBLE_FORCE_COLOR": "1",
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        # No cowsay banners in the log; and ansible runs ``cowpath -l`` as it loads, before
        # a head start's hold.
        "ANSIBLE_NOCOWS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    # Role runs get a generated project dir from ansible-runner: point every run at the
    # repo's own ansible.cfg (its relative paths resolve against the file's folder).
    config = job.project_dir / "ansible.cfg"
    if config.is_file():
        environment["ANSIBLE_CONFIG"] = str(config)
    if job.hold is not None:
        environment["PATH"] = str(job.hold) + os.pathsep + environment["PATH"]
        environment["CHIFFON_HOLD"] = str(job.hold / HOLD_SOCKET)
    return environment


def write_held_command(folder: Path) -> bool:
    """An ``ansible-playbook`` in ``folder`` that loads ansible's code, then waits on the socket
    ``folder/hold`` before it loads anything of the repo (``held_playbook.py``). ansible-runner
    finds it first on the PATH of a job whose ``hold`` is ``folder``.

    False when a run must not be held: the command would not be the one found (``folder`` on
    a noexec mount: the real ansible-playbook would run unheld), or ansible-playbook is not
    installed beside this Python (the held one would not be the one a plain run gets).
    """
    command = folder / "ansible-playbook"
    python, script = shlex.quote(sys.executable), shlex.quote(str(_HELD_PLAYBOOK))
    command.write_text(f'#!/bin/sh\nexec {python} {script} "$@"\n', encoding="utf-8")
    command.chmod(0o700)
    return held_command_found(folder)


def held_command_found(folder: Path) -> bool:
    """True when a held job's PATH finds ``folder``'s ansible-playbook and a plain job's finds
    the one beside this Python (what ``write_held_command`` checks)."""
    found = shutil.which("ansible-playbook", path=str(folder) + os.pathsep + _search_path())
    beside = Path(sys.executable).with_name("ansible-playbook")
    return found is not None and Path(found) == folder / "ansible-playbook" and beside.is_file()


def run_job(
    job: RunnerJob,
    on_event: Callable[[RunnerEvent], None],
    cancelled: threading.Event,
    spawning: threading.Event | None = None,
) -> RunnerOutcome:
    """Run ``job`` to the end (blocking). Its scratch dir, extra vars included, is removed after;
    the events are Chiffon's record of the run. ``spawning`` is set when ansible-runner is
    about to start ansible-playbook."""
    job.private_data_dir.mkdir(parents=True, exist_ok=True)

    def handle(raw: dict[str, Any]) -> bool:
        on_event(_to_event(raw))
        return False  # stored by Chiffon; ansible-runner need not keep its own copy

    def status(data: dict[str, Any], **_: Any) -> None:
        # Only the status is read: the 'starting' payload holds the whole environment.
        if spawning is not None and data.get("status") == "running":
            spawning.set()

    kwargs: dict[str, Any] = {}
    if job.role:
        kwargs.update(
            role=job.role, roles_path=str(job.project_dir / "roles"), hosts=job.role_hosts
        )
    else:
        kwargs["playbook"] = job.playbook
    meter = UsageMeter(RUN_MARKER, job.marker)
    try:
        with meter:
            runner = ansible_runner.run(
                private_data_dir=str(job.private_data_dir),
                project_dir=str(job.project_dir),
                inventory=job.inventory,
                extravars=job.extra_vars or None,
                limit=job.limit or None,
                tags=job.tags or None,
                cmdline="--check --diff" if job.check else None,
                envvars=_environment(job),
                event_handler=handle,
                status_handler=status,
                cancel_callback=cancelled.is_set,
                settings=_SETTINGS,
                # Facts as ansible-playbook keeps them (or the repo's ansible.cfg says), not
                # ansible-runner's JSON files in the scratch dir, which is removed after.
                fact_cache_type="memory",
                quiet=True,
                ident="run",
                **kwargs,
            )
    except Exception as error:  # ansible-runner raises plain exceptions for set-up problems
        return RunnerOutcome(status="failed", rc=None, error=f"ansible-runner: {error}")
    finally:
        shutil.rmtree(job.private_data_dir, ignore_errors=True)
    return RunnerOutcome(status=str(runner.status), rc=runner.rc, usage=meter.usage)
