"""Partial templates rendered once per content: the chat page's twenty plan cards.

``fragment(name, **values)`` in a template renders partial ``name`` with ``values`` only
(plus who is signed in, and a stand-in for the CSRF token that is swapped for the request's
own afterwards), and keeps the HTML by exactly that: the template, the values' ``repr``,
the person. The values are read from the database for each request, so a page
still shows what is there at request time; only the rendering of an unchanged card is
spared (rendering was about half of the chat page's time, and most cards do not change
between two looks). The partial sees nothing but what is in the key: no ``request``.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from typing import Any

from jinja2 import Template, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from chiffon.web.auth import csrf_token
from chiffon.web.identity import identity

__all__ = ["FRAGMENT_CSRF", "FRAGMENT_IDENTITY", "Fragments"]

# The context keys through which ``signed_in()`` and ``csrf_field()`` answer in a fragment.
FRAGMENT_IDENTITY = "fragment_identity"
FRAGMENT_CSRF = "fragment_csrf"


class Fragments:
    """An LRU of rendered partials (one per Jinja environment, so per app)."""

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._rendered: OrderedDict[tuple[Template, str], str] = OrderedDict()
        # Never shown: every copy of it is replaced by the request's token before sending.
        self._stand_in = "csrf-" + secrets.token_hex(16)

    @pass_context
    def __call__(self, context: Context, name: str, **values: Any) -> Markup:
        request = context.get("request")
        me = identity(request) if request is not None else None
        token = csrf_token(request) if request is not None else ""
        template = context.environment.get_template(name)
        key = (template, _content(values, me, bool(token)))
        html = self._rendered.get(key)
        if html is None:
            html = template.render(
                **values,
                **{FRAGMENT_IDENTITY: me, FRAGMENT_CSRF: self._stand_in if token else ""},
            )
            self._rendered[key] = html
            if len(self._rendered) > self._size:
                self._rendered.popitem(last=False)
        else:
            self._rendered.move_to_end(key)
        return Markup(html.replace(self._stand_in, str(escape(token))) if token else html)


def _content(values: dict[str, Any], *more: Any) -> str:
    # The values are frozen dataclasses, dicts, lists and scalars: their repr is their content
    # (kept whole as the key, so two cards are the same only when their text is).
    return repr((sorted(values.items()), *more))
