"""Accounts through the real app over HTTP: set-up, sign-in, roles, CSRF, API tokens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from chiffon.app import create_app
from chiffon.settings import Settings
from tests._auth import ADMIN, PASSWORD, add_user, another_browser, refresh_csrf, set_up, sign_in


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
def fresh(app: Litestar) -> Iterator[TestClient[Litestar]]:
    """A client of an app with no accounts yet."""
    with TestClient(app) as client:
        yield client


@pytest.fixture
def admin(fresh: TestClient[Litestar]) -> TestClient[Litestar]:
    set_up(fresh)
    return fresh


def _plan(client: TestClient[Litestar]) -> dict[str, Any]:
    response = client.post("/api/requests", json={"text": "say hello"})
    assert response.status_code == 201, response.text
    plan: dict[str, Any] = response.json()
    return plan


def test_it_sends_the_first_visit_to_set_up(fresh: TestClient[Litestar]) -> None:
    page = fresh.get("/plans", follow_redirects=False)
    api = fresh.get("/api/plans")
    setup = fresh.get("/setup")
    login = fresh.get("/login", follow_redirects=False)

    assert page.status_code == 303 and page.headers["location"] == "/setup"
    assert api.status_code == 401 and "create the first admin at /setup" in api.json()["error"]
    assert api.headers["www-authenticate"].startswith("Bearer")
    assert setup.status_code == 200 and "Create the admin and sign in" in setup.text
    assert login.status_code == 303 and login.headers["location"] == "/setup"
    assert fresh.get("/healthz").status_code == 200  # no account needed


def test_it_creates_the_admin_signs_them_in_and_closes_set_up(
    fresh: TestClient[Litestar],
) -> None:
    set_up(fresh)

    me = fresh.get("/api/me").json()
    home = fresh.get("/")
    again = fresh.get("/setup", follow_redirects=False)

    assert me == {"name": ADMIN, "role": "admin", "via": "session"}
    assert home.status_code == 200 and f">{ADMIN} <span" in home.text and "Sign out" in home.text
    assert again.status_code == 303 and again.headers["location"] == "/login"


def test_it_refuses_a_set_up_with_differing_passwords_keeping_the_name(
    fresh: TestClient[Litestar],
) -> None:
    token = refresh_csrf(fresh)
    form = {"name": "ada", "password": PASSWORD, "confirm": "something else", "_csrf": token}
    response = fresh.post("/setup", data=form)

    assert response.status_code == 422 and "the two passwords differ" in response.text
    assert 'value="ada"' in response.text and "Traceback" not in response.text
    assert fresh.get("/api/me").status_code == 401


def test_it_sets_the_session_cookie_httponly_and_samesite_lax(
    fresh: TestClient[Litestar],
) -> None:
    token = refresh_csrf(fresh)
    form = {"name": "ada", "password": PASSWORD, "confirm": PASSWORD, "_csrf": token}
    plain = fresh.post("/setup", data=form, follow_redirects=False)
    with another_browser(fresh) as other:
        token = refresh_csrf(other)
        over_https = other.post(
            "/login",
            data={"name": "ada", "password": PASSWORD, "_csrf": token},
            headers={"X-Forwarded-Proto": "https"},
            follow_redirects=False,
        )

    cookie = plain.headers["set-cookie"].lower()
    assert "chiffon_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie
    assert over_https.status_code == 303 and "secure" in over_https.headers["set-cookie"].lower()


def test_it_signs_in_and_returns_to_the_page_asked_for(admin: TestClient[Litestar]) -> None:
    with another_browser(admin) as other:
        asked = other.get("/runs?status=failed", follow_redirects=False)
        token = refresh_csrf(other)
        form = {"name": ADMIN, "password": PASSWORD, "next": "/runs?status=failed"}
        done = other.post("/login", data={**form, "_csrf": token}, follow_redirects=False)
        runs = other.get("/runs")

    assert asked.status_code == 303
    assert asked.headers["location"] == "/login?next=%2Fruns%3Fstatus%3Dfailed"
    assert done.status_code == 303 and done.headers["location"] == "/runs?status=failed"
    assert runs.status_code == 200


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "javascript:x"])
def test_it_never_redirects_off_the_site_after_sign_in(
    admin: TestClient[Litestar], target: str
) -> None:
    with another_browser(admin) as other:
        token = refresh_csrf(other)
        form = {"name": ADMIN, "password": PASSWORD, "next": target, "_csrf": token}
        done = other.post("/login", data=form, follow_redirects=False)

    assert done.status_code == 303 and done.headers["location"] == "/"


def test_a_wrong_password_shows_the_form_again_and_guessing_is_throttled(
    admin: TestClient[Litestar],
) -> None:
    with another_browser(admin) as other:
        wrong = [sign_in(other, ADMIN, "not the password") for _ in range(5)]
        throttled = sign_in(other, ADMIN, PASSWORD)
        signed_out = other.get("/api/me")

    assert all(r.status_code == 401 for r in wrong)
    assert "wrong name or password" in wrong[0].text and f'value="{ADMIN}"' in wrong[0].text
    assert throttled.status_code == 429 and "too many failed sign-ins" in throttled.text
    assert 0 < int(throttled.headers["retry-after"]) <= 900
    assert signed_out.status_code == 401
    assert admin.get("/api/me").status_code == 200  # the signed-in browser is not affected


def test_it_refuses_a_change_without_or_with_a_wrong_csrf_token(
    admin: TestClient[Litestar],
) -> None:
    good = admin.headers.pop("X-CSRF-Token")
    missing = admin.post("/api/requests", json={"text": "say hello"})
    wrong = admin.post(
        "/api/requests", json={"text": "say hello"}, headers={"X-CSRF-Token": "x" * 43}
    )
    form_missing = admin.post("/chat", data={"text": "say hello"})
    form_ok = admin.post("/chat", data={"text": "say hello", "_csrf": good})

    assert missing.status_code == wrong.status_code == 403
    assert "security token is missing or out of date" in missing.json()["error"]
    assert form_missing.status_code == 403 and "reload the page" in form_missing.text
    assert "Traceback" not in form_missing.text
    assert form_ok.status_code == 200
    assert len(admin.get("/api/plans").json()) == 1  # only the request that carried the token


def test_the_pages_carry_the_csrf_token_for_forms_and_htmx(admin: TestClient[Litestar]) -> None:
    token = admin.cookies.get("chiffon_csrf")
    page = admin.get("/runs/new")

    assert f'name="_csrf" value="{token}"' in page.text
    assert f'hx-headers=\'{{"X-CSRF-Token": "{token}"}}\'' in page.text


def test_roles_decide_who_may_read_request_approve_and_manage(
    admin: TestClient[Litestar],
) -> None:
    add_user(admin, "vic", "viewer")
    add_user(admin, "otto", "operator")
    plan = _plan(admin)
    admin_page = admin.get(f"/plans/{plan['id']}")

    with another_browser(admin) as other:
        sign_in(other, "vic")
        viewer_reads = other.get(f"/api/plans/{plan['id']}")
        viewer_page = other.get(f"/plans/{plan['id']}")
        viewer_asks = other.post("/api/requests", json={"text": "say hello"})
        viewer_approves = other.post(f"/api/plans/{plan['id']}/approve", json={})
        viewer_people = other.get("/users")

        sign_in(other, "otto")
        operator_people = other.get("/users")
        operator_approves = other.post(f"/api/plans/{plan['id']}/approve", json={})

    assert viewer_reads.status_code == 200
    assert "Approve and run" not in viewer_page.text and "You are a viewer" in viewer_page.text
    assert "Approve and run" in admin_page.text
    assert viewer_asks.status_code == viewer_approves.status_code == 403
    assert (
        "needs the operator role or above, and vic is a viewer" in viewer_approves.json()["error"]
    )
    assert viewer_people.status_code == 403 and "Traceback" not in viewer_people.text
    assert operator_people.status_code == 403
    assert operator_approves.status_code == 200, operator_approves.text
    assert operator_approves.json()["decided_by"] == "otto"


def test_an_api_token_works_without_cookies_or_csrf_until_revoked(
    admin: TestClient[Litestar],
) -> None:
    created = admin.post("/api/tokens", json={"name": "backup script"})
    assert created.status_code == 201
    token = created.json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}

    with another_browser(admin) as script:
        me = script.get("/api/me", headers=bearer)
        asked = script.post("/api/requests", json={"text": "say hello"}, headers=bearer)
    admin.post(f"/api/tokens/{created.json()['id']}/revoke")
    with another_browser(admin) as script:
        revoked = script.get("/api/me", headers=bearer)
        made_up = script.get("/api/me", headers={"Authorization": "Bearer chf_made-up"})
        nothing = script.get("/api/plans")

    assert me.json() == {"name": ADMIN, "role": "admin", "via": "token"}
    assert asked.status_code == 201 and asked.json()["requester"] == ADMIN
    assert revoked.status_code == made_up.status_code == 401
    assert "unknown or revoked" in revoked.json()["error"]
    assert nothing.status_code == 401 and "Bearer" in nothing.json()["error"]
    assert token not in admin.get("/api/tokens").text


def test_the_account_page_shows_a_new_token_once(admin: TestClient[Litestar]) -> None:
    created = admin.post("/account/tokens", data={"name": "ci"})
    later = admin.get("/account")

    shown = created.text.split('id="new-token">', 1)[1].split("<", 1)[0]
    assert shown.startswith("chf_") and shown not in later.text
    assert "<td>ci</td>" in later.text


def test_signing_out_ends_the_session(admin: TestClient[Litestar]) -> None:
    session = admin.cookies.get("chiffon_session")
    out = admin.post("/logout", follow_redirects=False)

    assert out.status_code == 303 and out.headers["location"] == "/login"
    admin.cookies.set("chiffon_session", session or "")
    assert admin.get("/api/me").status_code == 401


def test_an_htmx_request_without_a_session_is_sent_to_sign_in(
    admin: TestClient[Litestar],
) -> None:
    with another_browser(admin) as other:
        response = other.get("/catalog", headers={"HX-Request": "true"})

    assert response.status_code == 401 and response.headers["hx-redirect"].startswith("/login")


def test_admins_add_people_change_roles_and_keep_the_last_admin(
    admin: TestClient[Litestar],
) -> None:
    add_user(admin, "bob", "viewer")
    taken = admin.post("/users", data={"name": "bob", "role": "viewer", "password": PASSWORD})
    promoted = admin.post("/users/bob/role", data={"role": "operator"})
    last = admin.post(f"/users/{ADMIN}/role", data={"role": "viewer"})
    html = admin.post("/users", data={"name": "<b>x", "role": "viewer", "password": PASSWORD})

    assert taken.status_code == 409 and "already an account named bob" in taken.text
    assert promoted.status_code == 200 and "bob is now operator" in promoted.text
    assert last.status_code == 409 and "last admin" in last.text
    assert html.status_code == 400 and "<b>x" not in html.text
    assert [u["role"] for u in admin.get("/api/users").json()] == ["admin", "operator"]


def test_a_second_approver_is_required_when_configured(settings: Settings) -> None:
    app = create_app(settings.with_overrides(require_second_approver=True))
    with TestClient(app) as ada:
        set_up(ada)
        add_user(ada, "bob", "operator")
        plan = _plan(ada)
        own = ada.post(f"/api/plans/{plan['id']}/approve", json={})
        with another_browser(ada) as bob:
            sign_in(bob, "bob")
            second = bob.post(f"/api/plans/{plan['id']}/approve", json={})

    assert own.status_code == 403 and "a second person must approve" in own.json()["error"]
    assert second.status_code == 200 and second.json()["decided_by"] == "bob"


def test_only_admins_change_the_playbook_repo(admin: TestClient[Litestar]) -> None:
    add_user(admin, "otto", "operator")
    plan = _plan(admin)

    with another_browser(admin) as other:
        sign_in(other, "otto")
        accept = other.post("/api/suggestions/1/accept", json={})
        draft = other.post(f"/api/plans/{plan['id']}/steps/0/draft", json={"path": "x.yml"})
        rescan = other.post("/api/catalog/scan")

    assert accept.status_code == draft.status_code == 403
    assert "needs the admin role" in accept.json()["error"]
    assert rescan.status_code == 200  # reading the repo again changes nothing in it
