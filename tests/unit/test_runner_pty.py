"""The runner adapter's pseudo-terminal close: at once for a finished child, as before otherwise."""

from __future__ import annotations

import time

import ptyprocess

import chiffon.executor.runner  # noqa: F401  (the adapter sets how the pty closes)


def _wait_until_reaped(pty: ptyprocess.PtyProcess, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while pty.isalive():
        assert time.monotonic() < deadline, "the child never exited"
        time.sleep(0.01)


def test_it_closes_the_pty_of_a_child_that_has_exited_without_waiting() -> None:
    pty = ptyprocess.PtyProcess.spawn(["true"])
    _wait_until_reaped(pty)

    started = time.perf_counter()
    pty.close()

    assert time.perf_counter() - started < 0.05  # the library's own close sleeps 0.1 s
    assert pty.closed and pty.exitstatus == 0


def test_it_still_stops_a_child_that_runs_when_its_pty_closes() -> None:
    pty = ptyprocess.PtyProcess.spawn(["sleep", "30"])

    pty.close(force=True)

    assert pty.closed and pty.terminated and not pty.isalive()
