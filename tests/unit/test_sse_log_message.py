"""A run's ``log`` SSE message is rendered and encoded once per event, for every viewer."""

from __future__ import annotations

from litestar.response.sse import ServerSentEventMessage

from chiffon.web.sse import _log_message
from chiffon.web.templating import log_line


def test_the_shared_message_encodes_as_a_fresh_one_would() -> None:
    stdout = "\x1b[0;32mok: [web1]\x1b[0m\n<script>alert(1)</script>"
    fresh = ServerSentEventMessage(data=log_line(7, stdout), event="log", id=7).encode()
    shared = _log_message(7, stdout).encode()
    assert shared == fresh
    assert b"<script>" not in shared and b"&lt;script&gt;" in shared
    assert shared.startswith(b"id: 7\r\nevent: log\r\ndata: ")


def test_viewers_of_one_event_share_it_and_other_events_get_their_own() -> None:
    first = _log_message(8, "ok: [web1]")
    assert _log_message(8, "ok: [web1]") is first
    assert b"id: 9\r\n" in _log_message(9, "ok: [web1]").encode()
    assert b"web2" in _log_message(8, "ok: [web2]").encode()


def test_an_event_without_output_still_carries_its_id() -> None:
    assert _log_message(10, "").encode() == b"id: 10\r\nevent: log\r\ndata: \r\n\r\n"
