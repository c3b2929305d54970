"""The CLI's progress bar: silent for quick work, in place on a terminal, by tenths elsewhere."""

from __future__ import annotations

import io
import logging

import pytest

from chiffon.lib.progressbar import LoggedProgress, ProgressBar


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_it_draws_nothing_for_work_done_within_a_second() -> None:
    clock, stream = Clock(), io.StringIO()
    bar = ProgressBar("embedding", stream, clock=clock)

    for done in range(0, 11):
        clock.now += 0.05
        bar(done, 10)
    bar.close()

    assert stream.getvalue() == "" and not bar.shown


def test_it_writes_a_line_per_tenth_when_not_on_a_terminal() -> None:
    clock, stream = Clock(), io.StringIO()
    bar = ProgressBar("embedding", stream, clock=clock)

    bar(0, 1000)
    clock.now += 2
    for done in range(0, 1001, 50):
        bar(done, 1000)

    lines = stream.getvalue().splitlines()
    assert len(lines) == 11
    assert lines[0] == "embedding [" + "." * 30 + "] 0/1000 2s"
    assert lines[-1] == "embedding [" + "#" * 30 + "] 1000/1000 2s"


def test_it_redraws_in_place_on_a_terminal_and_ends_the_line() -> None:
    clock, stream = Clock(), Terminal()
    bar = ProgressBar("embedding", stream, clock=clock)

    bar(0, 4)
    clock.now += 1.5
    bar(2, 4)
    bar(4, 4)
    bar.close()

    assert stream.getvalue() == (
        "\rembedding [" + "#" * 15 + "." * 15 + "] 2/4 2s\rembedding [" + "#" * 30 + "] 4/4 2s\n"
    )


def test_close_ends_a_line_left_open_by_interrupted_work() -> None:
    clock, stream = Clock(), Terminal()
    bar = ProgressBar("embedding", stream, clock=clock)
    bar(0, 4)
    clock.now += 3
    bar(1, 4)

    bar.close()
    bar.close()

    assert stream.getvalue().endswith("1/4 3s\n") and stream.getvalue().count("\n") == 1


def test_logged_progress_says_how_far_it_got_at_most_every_few_seconds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    progress = LoggedProgress(logging.getLogger("test.progress"), "embedded %d of %d", every_s=0)

    with caplog.at_level(logging.INFO, logger="test.progress"):
        for done in (0, 5, 10):
            progress(done, 10)

    assert [r.getMessage() for r in caplog.records] == ["embedded 5 of 10"]
