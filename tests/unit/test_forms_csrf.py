"""Every form that changes something carries the CSRF field (HTMX also sends the header)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
POST_FORM = re.compile(r"<form\b[^>]*\bmethod=\"post\"[^>]*>", re.IGNORECASE)
FILES = sorted(p for p in TEMPLATES.rglob("*.html") if POST_FORM.search(p.read_text()))


def test_there_are_post_forms_to_check() -> None:
    assert len(FILES) >= 8


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_every_post_form_has_the_csrf_field(path: Path) -> None:
    text = path.read_text()
    missing = [
        form.group(0)
        for form in POST_FORM.finditer(text)
        if not text[form.end() :].lstrip().startswith("{{ csrf_field() }}")
    ]
    assert missing == []
