"""ANSI terminal output to HTML: SGR colours become ``<span class="ansi-...">``, all text escaped.

Ansible colours its output with SGR sequences (``ESC[0;32m`` ... ``ESC[0m``). ``to_html`` keeps
those as CSS classes (never inline styles, so the page's stylesheet decides the palette) and
drops every other escape sequence (cursor moves, erase-line, OSC titles). The result is safe to
put in a page as is: every character of the input is either escaped or removed.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace

__all__ = ["COLOURS", "strip_ansi", "to_html"]

COLOURS = ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")

# CSI ... final byte, OSC ... BEL/ST, or a two-byte escape. Group 1 is an SGR's parameters.
_ESCAPE = re.compile(
    r"\x1b\[([0-9;:]*)m"
    r"|\x1b\[[0-9;:?<=>]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[0-~]?"
)
# C0 controls other than tab and newline, and DEL: invisible in a page, so dropped.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class _Style:
    bold: bool = False
    dim: bool = False
    italic: bool = False
    underline: bool = False
    inverse: bool = False
    fg: str | None = None
    bg: str | None = None

    def classes(self) -> str:
        names = [
            name
            for name, on in (
                ("ansi-bold", self.bold),
                ("ansi-dim", self.dim),
                ("ansi-italic", self.italic),
                ("ansi-underline", self.underline),
                ("ansi-inverse", self.inverse),
            )
            if on
        ]
        if self.fg:
            names.append(f"ansi-{self.fg}")
        if self.bg:
            names.append(f"ansi-bg-{self.bg}")
        return " ".join(names)


_PLAIN = _Style()


def _colour(index: int) -> str:
    """``red`` for 1, ``bright-red`` for 9 (the 16 colours of the basic and bright palettes)."""
    return COLOURS[index] if index < 8 else f"bright-{COLOURS[index - 8]}"


def _extended(codes: list[int], at: int) -> tuple[str | None, int]:
    """Read a ``38;5;n`` / ``38;2;r;g;b`` colour starting after 38/48; return (colour, next index).

    Only the 16-colour part of the 256-colour palette has a class; other colours are skipped.
    """
    if at < len(codes) and codes[at] == 5:
        index = codes[at + 1] if at + 1 < len(codes) else -1
        return (_colour(index) if 0 <= index < 16 else None), at + 2
    if at < len(codes) and codes[at] == 2:
        return None, at + 4
    return None, at


def _apply(style: _Style, parameters: str) -> _Style:
    codes = [int(part) if part.isdigit() else 0 for part in re.split(r"[;:]", parameters)]
    i = 0
    while i < len(codes):
        code = codes[i]
        i += 1
        if code == 0:
            style = _PLAIN
        elif code == 1:
            style = replace(style, bold=True)
        elif code == 2:
            style = replace(style, dim=True)
        elif code == 3:
            style = replace(style, italic=True)
        elif code == 4:
            style = replace(style, underline=True)
        elif code == 7:
            style = replace(style, inverse=True)
        elif code == 22:
            style = replace(style, bold=False, dim=False)
        elif code == 23:
            style = replace(style, italic=False)
        elif code == 24:
            style = replace(style, underline=False)
        elif code == 27:
            style = replace(style, inverse=False)
        elif 30 <= code <= 37:
            style = replace(style, fg=_colour(code - 30))
        elif 90 <= code <= 97:
            style = replace(style, fg=_colour(code - 90 + 8))
        elif code == 39:
            style = replace(style, fg=None)
        elif 40 <= code <= 47:
            style = replace(style, bg=_colour(code - 40))
        elif 100 <= code <= 107:
            style = replace(style, bg=_colour(code - 100 + 8))
        elif code == 49:
            style = replace(style, bg=None)
        elif code in (38, 48):
            colour, i = _extended(codes, i)
            style = replace(style, fg=colour) if code == 38 else replace(style, bg=colour)
    return style


def _text(chunk: str) -> str:
    return html.escape(_CONTROL.sub("", chunk))


def to_html(text: str) -> str:
    """Return ``text`` as HTML: escaped, SGR styles as ``<span class>``, other escapes removed.

    Spans never cross the end of the input, so each call's result is balanced HTML.
    """
    if "\x1b" not in text:
        return _text(text)
    out: list[str] = []
    style = _PLAIN
    position = 0
    for match in _ESCAPE.finditer(text):
        _emit(out, style, text[position : match.start()])
        position = match.end()
        if match.group(1) is not None:
            style = _apply(style, match.group(1))
    _emit(out, style, text[position:])
    return "".join(out)


def _emit(out: list[str], style: _Style, chunk: str) -> None:
    if not chunk:
        return
    classes = style.classes()
    if classes:
        out.append(f'<span class="{classes}">{_text(chunk)}</span>')
    else:
        out.append(_text(chunk))


def strip_ansi(text: str) -> str:
    """Return ``text`` without any escape sequence (for plain-text matching and display)."""
    return _ESCAPE.sub("", text)
