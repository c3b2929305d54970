"""The Jinja environment: autoescaping, and the filters templates use to show runs."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, Protocol

from jinja2 import pass_context
from jinja2.runtime import Context
from litestar.plugins.jinja import JinjaTemplateEngine
from markupsafe import Markup, escape

from chiffon.lib.ansi import to_html
from chiffon.web.auth import CSRF_FIELD, csrf_token
from chiffon.web.fragments import FRAGMENT_CSRF, FRAGMENT_IDENTITY, Fragments
from chiffon.web.identity import identity

__all__ = ["ansi", "configure_environment", "duration", "log_line", "log_lines", "render"]


@lru_cache(maxsize=8192)
def _ansi_cached(text: str) -> str:
    return to_html(text)


def ansi(text: str | None) -> Markup:
    """``text`` (ansible output) as safe HTML with its colours as ``ansi-*`` classes.

    Cached by text: many viewers of one run, and ansible's repeated lines, render once.
    """
    if not text:
        return Markup("")
    return Markup(_ansi_cached(text))


def log_line(seq: int, stdout: str | None) -> Markup:
    """One event of a run's log as HTML (the page and the SSE stream render it the same way);
    nothing for an event without output."""
    if not stdout:
        return Markup("")
    # Formatted directly (not ``Markup % ...``, ten times slower over a 1,000-line log):
    # ``seq`` goes through int() and ``to_html`` escapes every character it keeps.
    return Markup(f'<div class="ev" data-seq="{int(seq)}">{_ansi_cached(stdout)}</div>')


class LoggedEvent(Protocol):
    @property
    def seq(self) -> int: ...
    @property
    def stdout(self) -> str | None: ...


def log_lines(events: Iterable[LoggedEvent]) -> Markup:
    """A run's log as HTML: ``log_line`` of each event, joined (one call from the template
    instead of one per event)."""
    return Markup("".join([log_line(event.seq, event.stdout) for event in events]))


def datetime(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """An aware datetime in UTC as ``fmt`` followed by ``UTC``; ``—`` for none."""
    if value is None:
        return "—"
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.strftime(fmt) + " UTC"


def duration(seconds: float | None) -> str:
    """``1.2 s``, ``3 min 04 s``, ``2 h 05 min``; ``—`` for none."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def to_yaml_like(value: Any) -> str:
    """A variable's value as one readable line (JSON for anything but a plain string)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _csrf(context: Context) -> str:
    if FRAGMENT_CSRF in context:  # a partial rendered apart by ``fragment()``
        return str(context[FRAGMENT_CSRF])
    request = context.get("request")
    return csrf_token(request) if request is not None else ""


@pass_context
def csrf_field(context: Context) -> Markup:
    """The hidden CSRF field of a plain form (nothing in a fragment rendered for SSE, whose
    forms are sent by HTMX with the page's ``X-CSRF-Token`` header)."""
    token = _csrf(context)
    if not token:
        return Markup("")
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">')


@pass_context
def csrf_value(context: Context) -> str:
    return _csrf(context)


@pass_context
def signed_in(context: Context) -> Any:
    """The signed-in person (an ``Identity``) or None."""
    if FRAGMENT_IDENTITY in context:
        return context[FRAGMENT_IDENTITY]
    request = context.get("request")
    return identity(request) if request is not None else None


def configure_environment(engine: JinjaTemplateEngine) -> None:
    environment = engine.engine
    environment.autoescape = True
    environment.trim_blocks = True
    environment.lstrip_blocks = True
    environment.filters.update(ansi=ansi, datetime=datetime, duration=duration, value=to_yaml_like)
    environment.globals["log_line"] = log_line
    environment.globals["log_lines"] = log_lines
    environment.globals.update(csrf_field=csrf_field, csrf_value=csrf_value, signed_in=signed_in)
    environment.globals["fragment"] = Fragments()


def render(engine: JinjaTemplateEngine, name: str, **context: Any) -> str:
    """Render template ``name`` outside a response (SSE fragments)."""
    return engine.get_template(name).render(**context)
