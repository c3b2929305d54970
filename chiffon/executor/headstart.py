"""A run's ansible-playbook started ahead of Chiffon and held until the run is adopted.

``chiffon run`` needs about a second (imports, migrations, a catalog scan) before it can store
a run, and ansible-playbook needs about as long to start, most of it loading its own code. A
head start overlaps the two: the command starts ansible-playbook at once on the job its
arguments name, through ``held_playbook.py``, which loads ansible's code and then waits on a
Unix socket. The executor checks the run as always and then adopts the head start when its
job is exactly the one it would have started (``release``: ansible-playbook goes on, and what
it printed so far is handed over in order), or aborts it and starts the run as usual.

The hold comes before ansible-playbook loads anything of the repo but ``ansible.cfg``'s
settings (its plugins, the inventory, the playbook and its templates, a vault password
script): an aborted head start has run nothing, not even code in a playbook the executor
refuses.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from chiffon.catalog import YAML_SUFFIXES, inside, inventories
from chiffon.lib import proctree
from chiffon.lib.ids import new_correlation_id

from ._checks import existing_inventory
from ._types import RunRequestError
from .runner import (
    HOLD_SOCKET,
    RUN_MARKER,
    RunnerEvent,
    RunnerJob,
    RunnerOutcome,
    run_job,
    write_held_command,
)

_GO = b"g"  # what held_playbook.py waits for
_ACCEPT_POLL_S = 0.02  # how often the hold thread looks up from accept() to see if it is done
_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes
_SPAWN_WAIT_S = 1.0


class HeadStart:
    """One held ansible-playbook: ``release`` it into a run, or ``abort`` it (once)."""

    def __init__(self, job: RunnerJob, listener: socket.socket, scratch: Path) -> None:
        self.job = job
        self.cancelled = threading.Event()  # the run's cancel flag once adopted
        self.spawning = threading.Event()  # ansible-runner is starting ansible-playbook
        self.held = threading.Event()  # ansible-playbook reached the hold and waits
        self.outcome: Future[RunnerOutcome] = Future()  # ansible-runner's, once it ends
        self._listener = listener
        self._scratch = scratch  # the socket's folder
        self._lock = threading.Lock()
        self._state = "waiting"  # then "released" or "aborted", never back
        self._decided = threading.Event()
        self._early: list[RunnerEvent] = []  # events before the release
        self._sink: Callable[[RunnerEvent], None] | None = None
        self._done = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name="chiffon-head-start", daemon=True),
            threading.Thread(target=self._hold, name="chiffon-head-hold", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    @property
    def marker(self) -> str:
        return self.job.marker

    def matches(self, job: RunnerJob) -> bool:
        """True when ``job`` is this one's, but for its scratch folder and the hold."""
        mine = self.job
        return replace(job, private_data_dir=mine.private_data_dir, hold=mine.hold) == mine

    def release(self, on_event: Callable[[RunnerEvent], None]) -> Future[RunnerOutcome]:
        """Let the play go on (unless aborted): ``on_event`` gets every event, in order, those
        sent so far first."""
        with self._lock:
            for event in self._early:
                on_event(event)
            self._early.clear()
            self._sink = on_event
            if self._state == "waiting":
                self._state = "released"
        self._decided.set()
        return self.outcome

    def abort(self) -> None:
        """Stop it before anything ran (a no-op once released): the hold's socket closes, so
        ansible-playbook exits when it reaches the hold, and ansible-runner ends it within
        its poll (0.2 s) if it has not yet."""
        with self._lock:
            if self._state != "waiting":
                return
            self._state = "aborted"
        self.cancelled.set()
        self._decided.set()

    def close(self, timeout_s: float = 5.0) -> None:
        """Abort it unless released, and wait for its threads to clean up."""
        self.abort()
        for thread in self._threads:
            thread.join(timeout_s)
        if self._state == "aborted":  # held, it started nothing: this is only in case
            proctree.kill(proctree.marked_processes(RUN_MARKER, self.marker))

    def _event(self, event: RunnerEvent) -> None:
        with self._lock:
            sink = self._sink
            if sink is None:
                self._early.append(event)
                return
        sink(event)

    def _run(self) -> None:
        try:
            outcome = run_job(self.job, self._event, self.cancelled, self.spawning)
        except BaseException as error:  # handed to whoever adopts it
            self.outcome.set_exception(error)
        else:
            self.outcome.set_result(outcome)
        finally:
            self._done.set()

    def _hold(self) -> None:
        """Take the held ansible-playbook's connection and tell it the decision once made."""
        try:
            connection = self._accept()
            if connection is not None:
                with connection:
                    while not self._decided.wait(_ACCEPT_POLL_S * 5) and not self._done.is_set():
                        pass
                    if self._state == "released":
                        connection.sendall(_GO)
        except OSError:
            pass  # ansible-playbook is gone: its outcome says why
        finally:
            self._listener.close()
            shutil.rmtree(self._scratch, ignore_errors=True)

    def _accept(self) -> socket.socket | None:
        self._listener.settimeout(_ACCEPT_POLL_S)
        while not self._done.is_set() and self._state != "aborted":
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            connection.settimeout(None)
            self.held.set()
            return connection
        return None


def begin(job: RunnerJob) -> HeadStart | None:
    """Start ``job`` held (its ``hold`` is set here); None when it cannot be held safely: no
    socket can be made, or the held command would not be the ansible-playbook run."""
    scratch = Path(tempfile.mkdtemp(prefix="chiffon-hold-"))  # 0700: only we can connect
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        path = str(scratch / HOLD_SOCKET)
        if len(path.encode()) > _SOCKET_PATH_MAX:
            raise OSError(f"the hold's socket path is too long: {path}")
        listener.bind(path)
        listener.listen(1)
        if not write_held_command(scratch):
            raise OSError("the held ansible-playbook would not be the one run")
    except BaseException as error:  # OSError, or Ctrl-C: leave nothing behind
        listener.close()
        shutil.rmtree(scratch, ignore_errors=True)
        if isinstance(error, OSError):
            return None
        raise
    head = HeadStart(replace(job, hold=scratch), listener, scratch)
    try:
        # ansible-runner's set-up before the spawn is quick alone and slow beside the imports
        # that follow (they hold the GIL): wait for it, ansible-playbook's start is what overlaps.
        head.spawning.wait(_SPAWN_WAIT_S)
    except BaseException:
        head.close()
        raise
    return head


def guess_job(
    repo: Path,
    runs_dir: Path,
    entry: str,
    *,
    inventory: str | None = None,
    configured_inventory: str = "",
    limit: str | None = None,
    tags: str | None = None,
    extra_vars: Mapping[str, Any] | None = None,
    check: bool = False,
) -> RunnerJob | None:
    """The job ``chiffon run ENTRY`` will most likely start, from the repo's files alone.

    Only a playbook named by its path (``site.yml``) or its file name (``site``) is guessed;
    None when there is no such file, or its inventory would be refused. The executor compares
    the job it builds with this one and aborts the head start when they differ.
    """
    repo = repo.expanduser().resolve()
    playbook = _playbook(repo, entry)
    if playbook is None:
        return None
    chosen = inventory or configured_inventory
    if not chosen:
        found = inventories(repo)
        if not found:
            return None
        chosen = found[0].path
    try:
        relative = existing_inventory(repo, chosen, bool(inventory))
    except RunRequestError:
        return None
    marker = new_correlation_id()
    return RunnerJob(
        marker=marker,
        private_data_dir=runs_dir / f"head-{marker}",
        project_dir=repo,
        inventory=str(repo / relative),
        playbook=playbook,
        limit=limit,
        tags=tags,
        extra_vars=dict(extra_vars or {}),
        check=check,
    )


def _playbook(repo: Path, entry: str) -> str | None:
    if not entry or ":" in entry or os.path.isabs(entry):
        return None
    written = PurePosixPath(os.path.normpath(entry)).as_posix()
    names = [written]
    if not written.endswith(YAML_SUFFIXES):
        names = [written + suffix for suffix in YAML_SUFFIXES]
    for name in names:
        path = repo / name
        if not name.startswith("../") and path.is_file() and inside(repo, path):
            return name
    return None
