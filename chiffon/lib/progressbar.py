"""A progress bar for long work in a terminal command, drawn on stderr only when the work turns
out to be long; and its counterpart for a service, a line in the log now and then."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

_WIDTH = 30


class ProgressBar:
    """Call it with (done, total) as work advances, from any thread.

    Nothing is drawn until ``delay`` seconds have passed since the first call, so quick work
    prints nothing. On a terminal the bar redraws in place; elsewhere (a log, a pipe) it writes a
    line at each tenth, so that the output stays readable. ``close`` ends the line."""

    def __init__(
        self,
        label: str,
        stream: TextIO | None = None,
        delay: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self._stream = stream if stream is not None else sys.stderr
        self._delay = delay
        self._clock = clock
        self._started: float | None = None
        self._shown = False
        self._open_line = False
        self._tenth = -1
        self._lock = threading.Lock()

    @property
    def shown(self) -> bool:
        """True once the bar has been drawn."""
        return self._shown

    def __call__(self, done: int, total: int) -> None:
        with self._lock:
            now = self._clock()
            if self._started is None:
                self._started = now
            elapsed = now - self._started
            if elapsed < self._delay or total <= 0:
                return
            self._shown = True
            done = min(done, total)
            line = self._line(done, total, elapsed)
            if self._stream.isatty():
                self._stream.write("\r" + line)
                self._open_line = done < total
                if done >= total:
                    self._stream.write("\n")
            else:
                tenth = done * 10 // total
                if tenth > self._tenth:
                    self._tenth = tenth
                    self._stream.write(line + "\n")
            self._stream.flush()

    def close(self) -> None:
        """End a line left open by an interrupted bar."""
        with self._lock:
            if self._open_line:
                self._stream.write("\n")
                self._stream.flush()
                self._open_line = False

    def _line(self, done: int, total: int, elapsed: float) -> str:
        filled = _WIDTH * done // total
        bar = "#" * filled + "." * (_WIDTH - filled)
        return f"{self.label} [{bar}] {done}/{total} {elapsed:.0f}s"


class LoggedProgress:
    """Progress for work that draws no bar (the web service): ``message`` % (done, total) in
    the log at most every ``every_s`` seconds."""

    def __init__(self, log: logging.Logger, message: str, every_s: float = 5.0) -> None:
        self._log = log
        self._message = message
        self._every_s = every_s
        self._last = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if 0 < done < total and now - self._last >= self._every_s:
            self._last = now
            self._log.info(self._message, done, total)
