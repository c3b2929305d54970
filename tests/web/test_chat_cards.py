"""The chat page's plan cards, rendered once per content (``fragment()``): a card shows what
the database holds at request time, with the request's own CSRF token and the person's role."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from chiffon.app import create_app
from chiffon.settings import Settings
from tests._auth import ADMIN, add_user, set_up, sign_in


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(settings)) as client:
        set_up(client)
        yield client


def _ask(client: TestClient[Litestar], text: str) -> int:
    response = client.post("/api/requests", json={"text": text})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _csrf_fields(html: str) -> set[str]:
    return set(re.findall(r'name="_csrf" value="([^"]*)"', html))


def test_it_shows_a_decision_on_the_chat_page_at_once(client: TestClient[Litestar]) -> None:
    plan_id = _ask(client, "say hello")
    before = client.get("/chat").text
    assert "Approve and run" in before and client.get("/chat").text == before

    rejected = client.post(f"/api/plans/{plan_id}/reject", json={"reason": "not <today>"})
    assert rejected.status_code == 200, rejected.text
    after = client.get("/chat").text

    assert 'data-status="rejected"' in after and "Rejected: not &lt;today&gt;" in after
    assert "Approve and run" not in after


def test_each_chat_page_carries_its_own_csrf_token(client: TestClient[Litestar]) -> None:
    _ask(client, "say hello")
    for token in ("a" * 43, "b" * 43, "a" * 43):
        client.cookies.delete("chiffon_csrf")
        client.cookies.set("chiffon_csrf", token)
        page = client.get("/chat").text
        assert len(re.findall('name="_csrf"', page)) > 3
        assert _csrf_fields(page) == {token}, "every form carries this request's token"


def test_a_person_whose_role_changed_sees_the_cards_of_their_new_role(
    client: TestClient[Litestar],
) -> None:
    _ask(client, "say hello")
    assert "Approve and run" in client.get("/chat").text
    add_user(client, "bo", "admin")
    assert sign_in(client, "bo").status_code == 303
    assert client.post(f"/users/{ADMIN}/role", data={"role": "viewer"}).status_code == 200

    assert sign_in(client, ADMIN).status_code == 303
    page = client.get("/chat").text

    assert 'data-testid="viewer-note"' in page and "Approve and run" not in page
