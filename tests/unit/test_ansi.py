from __future__ import annotations

import pytest

from chiffon.lib.ansi import strip_ansi, to_html


def test_it_escapes_plain_text() -> None:
    assert to_html('<b>"a" & b</b>') == "&lt;b&gt;&quot;a&quot; &amp; b&lt;/b&gt;"


def test_it_turns_ansible_colours_into_classes() -> None:
    line = "\x1b[0;32mok: [localhost]\x1b[0m"
    assert to_html(line) == '<span class="ansi-green">ok: [localhost]</span>'


def test_it_keeps_text_around_coloured_parts() -> None:
    line = "TASK [x] \x1b[1;31mfatal\x1b[0m done"
    assert to_html(line) == 'TASK [x] <span class="ansi-bold ansi-red">fatal</span> done'


@pytest.mark.parametrize(
    ("codes", "classes"),
    [
        ("33", "ansi-yellow"),
        ("93", "ansi-bright-yellow"),
        ("44", "ansi-bg-blue"),
        ("104", "ansi-bg-bright-blue"),
        ("1;4;35", "ansi-bold ansi-underline ansi-magenta"),
        ("2;3;7", "ansi-dim ansi-italic ansi-inverse"),
        ("38;5;1", "ansi-red"),
        ("38;5;12", "ansi-bright-blue"),
        ("48;5;2", "ansi-bg-green"),
    ],
)
def test_it_maps_each_sgr_code(codes: str, classes: str) -> None:
    assert to_html(f"\x1b[{codes}mx") == f'<span class="{classes}">x</span>'


def test_it_skips_colours_outside_the_16_colour_palette() -> None:
    assert to_html("\x1b[38;5;200mx\x1b[38;2;1;2;3my") == "xy"
    assert to_html("\x1b[38;2;1;2;3;32mx") == '<span class="ansi-green">x</span>'


def test_it_resets_single_attributes() -> None:
    line = "\x1b[1;31ma\x1b[22mb\x1b[39mc"
    assert to_html(line) == (
        '<span class="ansi-bold ansi-red">a</span><span class="ansi-red">b</span>c'
    )


def test_it_treats_empty_sgr_as_reset() -> None:
    assert to_html("\x1b[31ma\x1b[mb") == '<span class="ansi-red">a</span>b'


def test_it_escapes_html_inside_coloured_text() -> None:
    line = "\x1b[31m<script>alert(1)</script>\x1b[0m"
    assert to_html(line) == '<span class="ansi-red">&lt;script&gt;alert(1)&lt;/script&gt;</span>'


def test_it_drops_non_colour_escapes_and_control_characters() -> None:
    line = "a\x1b[2Kb\x1b[1Ac\x1b]0;title\x07d\x1b=e\x07f\x00g"
    assert to_html(line) == "abcdefg"


def test_it_keeps_newlines_and_tabs() -> None:
    assert to_html("a\n\tb") == "a\n\tb"


def test_it_does_not_leave_a_span_open_at_the_end() -> None:
    assert to_html("\x1b[32mno reset") == '<span class="ansi-green">no reset</span>'
    assert to_html("\x1b[32m") == ""


def test_it_survives_a_lone_escape_at_the_end() -> None:
    assert to_html("text\x1b") == "text"
    assert to_html("text\x1b[") == "text"


def test_it_strips_every_escape() -> None:
    assert strip_ansi("\x1b[0;33mchanged: [h]\x1b[0m\x1b[K") == "changed: [h]"
