"""The post-mortem pages (of a run, of a plan), their HTMX forms and the analyzer's JSON API,
against the real app.

ansible-lint is pointed at a missing executable: the pages must say so and still work."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from chiffon.app import create_app
from chiffon.settings import Settings
from tests._analyzer import FAIL_ON_PURPOSE, FAILING, write_playbooks
from tests._auth import set_up

pytestmark = pytest.mark.slow

# Fails (non-zero), and Chiffon can fix its missing changed_when.
FAILS = FAILING["nonzero.yml"].replace("      changed_when: false\n", "")


@pytest.fixture
def client(settings: Settings, tmp_path: Path) -> Iterator[TestClient[Litestar]]:
    write_playbooks(settings.playbooks_dir, {"fails.yml": FAILS})
    app = create_app(settings.with_overrides(ansible_lint=str(tmp_path / "no-lint")))
    with TestClient(app) as client:
        set_up(client)
        yield client


def _failed_run(client: TestClient[Litestar]) -> dict[str, Any]:
    run: dict[str, Any] = client.post("/api/runs", json={"entry": "fails.yml"}).json()
    client.get(f"/runs/{run['id']}/stream")  # ends once the run is finished
    deadline = time.monotonic() + 60
    while client.get(f"/api/runs/{run['id']}").json()["status"] != "failed":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return run


def test_it_shows_the_post_mortem_of_a_failed_run(client: TestClient[Litestar]) -> None:
    run = _failed_run(client)

    assert f'href="/runs/{run["id"]}/postmortem"' in client.get(f"/runs/{run['id']}").text
    page = client.get(f"/runs/{run['id']}/postmortem")
    assert page.status_code == 200
    html = page.text
    assert "Command returned non-zero" in html
    assert "fails.yml:5" in html
    assert "Run a command that fails" in html  # the timeline and the failing task
    assert "/definitely/not/here" in html  # the failing task's output
    assert "chiffon-command-changed" in html
    assert "+      changed_when: false" in html  # the fix's diff
    assert "ansible-lint is not installed" in html

    api = client.get(f"/api/runs/{run['id']}/diagnosis").json()
    assert api["diagnosis"]["class"] == "nonzero"
    assert (api["diagnosis"]["file"], api["diagnosis"]["line"]) == ("fails.yml", 5)
    assert {s["rule"] for s in api["suggestions"]["suggestions"]} == {"chiffon-command-changed"}
    missing = client.get("/api/runs/424242/diagnosis")
    assert missing.status_code == 404 and missing.json() == {"error": "There is no run 424242."}


def test_it_accepts_with_htmx_and_says_when_there_is_no_commit(
    client: TestClient[Litestar], settings: Settings
) -> None:
    run = _failed_run(client)
    suggestion = client.get("/api/suggestions", params={"entry": "fails.yml"}).json()[
        "suggestions"
    ][0]

    reply = client.post(
        f"/suggestions/{suggestion['id']}/accept",
        data={"author": "Ada <ada@example.org>", "run_id": str(run["id"])},
        headers={"HX-Request": "true"},
    )

    assert reply.status_code == 200
    assert reply.text.lstrip().startswith("<article")  # the fragment, not a page
    assert "applied without a commit" in reply.text
    assert "changed_when: false" in (settings.playbooks_dir / "fails.yml").read_text()
    again = client.post(
        f"/suggestions/{suggestion['id']}/accept",
        data={"author": "Ada"},
        headers={"HX-Request": "true"},
    )
    assert "already accepted" in again.text


def test_its_api_refuses_a_conflict_and_escapes_a_reason(
    client: TestClient[Litestar], settings: Settings
) -> None:
    analysis = client.get("/api/suggestions", params={"entry": "fails.yml"}).json()
    suggestion_id = analysis["suggestions"][0]["id"]
    assert analysis["lint_error"] and not analysis["cached"]
    assert client.get("/api/suggestions", params={"entry": "fails.yml"}).json()["cached"]

    no_author = client.post(f"/api/suggestions/{suggestion_id}/accept", json={"author": " "})
    assert no_author.status_code == 400
    (settings.playbooks_dir / "fails.yml").write_text(FAILS + "# a person's edit\n")
    conflict = client.post(f"/api/suggestions/{suggestion_id}/accept", json={"author": "Ada"})
    assert conflict.status_code == 409
    assert "changed since" in conflict.json()["error"]
    assert "# a person's edit" in (settings.playbooks_dir / "fails.yml").read_text()
    in_page = client.post(
        f"/suggestions/{suggestion_id}/accept",
        data={"author": "Ada"},
        headers={"HX-Request": "true"},
    )
    assert "changed since" in in_page.text and "Re-check playbook:fails" in in_page.text
    rechecked = client.post("/analyze", data={"entry": "playbook:fails"})
    assert rechecked.status_code == 200 and str(rechecked.url).endswith(
        "/analyze?entry=playbook%3Afails"
    )
    # A fresh suggestion for the file as it is now, whose fix keeps the person's edit.
    assert f'id="suggestion-{suggestion_id}"' not in rechecked.text
    assert "Accept and commit" in rechecked.text and "a person&#39;s edit" in rechecked.text

    (settings.playbooks_dir / "fails.yml").write_text(FAILS)  # the same content: cached again
    dismissed = client.post(
        f"/api/suggestions/{suggestion_id}/dismiss", json={"reason": "<script>x</script>"}
    )
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    page = client.get("/analyze", params={"entry": "fails.yml"}).text
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x</script>" not in page

    assert client.post("/api/suggestions/999999/dismiss", json={"reason": "x"}).status_code == 404
    unknown = client.get("/api/suggestions", params={"entry": "nothing-here"})
    assert unknown.status_code == 400 and "no catalog entry" in unknown.json()["error"]


def _failed_plan(client: TestClient[Litestar], settings: Settings) -> dict[str, Any]:
    write_playbooks(settings.playbooks_dir, {"fail.yml": FAIL_ON_PURPOSE})
    assert client.post("/api/catalog/scan").status_code == 200
    plan: dict[str, Any] = client.post(
        "/api/requests", json={"text": "fail on purpose, then say hello"}
    ).json()
    approved = client.post(f"/api/plans/{plan['id']}/approve", json={"version": plan["version"]})
    assert approved.status_code == 200, approved.text
    deadline = time.monotonic() + 60
    while (plan := client.get(f"/api/plans/{plan['id']}").json())["status"] != "failed":
        assert time.monotonic() < deadline, plan
        time.sleep(0.1)
    return plan


def test_it_shows_the_post_mortem_of_a_failed_plan(
    client: TestClient[Litestar], settings: Settings
) -> None:
    plan = _failed_plan(client, settings)
    plan_id, run_id = plan["id"], plan["steps"][0]["run_id"]

    assert f'href="/plans/{plan_id}/postmortem"' in client.get(f"/plans/{plan_id}").text
    run_page = client.get(f"/runs/{run_id}/postmortem").text  # the run's says whose step it was
    assert f'<a href="/plans/{plan_id}/postmortem">the plan\'s post-mortem</a>' in run_page
    page = client.get(f"/plans/{plan_id}/postmortem")
    assert page.status_code == 200
    html = page.text
    assert "“fail on purpose, then say hello”" in html
    assert "1 of 2 steps failed" in html
    assert html.count('data-testid="step-state">failed<') == 1
    assert html.count('data-testid="step-state">skipped<') == 1
    assert f'href="/runs/{run_id}"' in html and 'href="#failure-0"' in html
    assert "Before the failure" in html  # the failed step's tasks
    assert '<li class="o-failed failing-task">Fail here' in html
    assert "Not run: a step it depends on did not succeed." in html
    assert f'id="diagnosis-{run_id}"' in html and "Command returned non-zero" in html
    assert "fail.yml:9" in html and "/definitely/not/here" in html  # where, and the output
    assert "chiffon-command-changed" in html and "+      changed_when: false" in html
    assert f'name="plan_id" value="{plan_id}"' in html

    api = client.get(f"/api/plans/{plan_id}/diagnosis").json()
    assert (api["plan_id"], api["status"]) == (plan_id, "failed")
    assert [s["state"] for s in api["steps"]] == ["failed", "skipped"]
    failed = api["steps"][0]
    assert (failed["run_id"], failed["diagnosis"]["class"]) == (run_id, "nonzero")
    assert (failed["diagnosis"]["file"], failed["diagnosis"]["line"]) == ("fail.yml", 9)
    assert failed["duration_s"] > 0 and "not installed" in failed["suggestions"]["lint_error"]

    # Accepting from the plan's post-mortem (no HTMX) comes back to it.
    suggestion = next(
        s for s in failed["suggestions"]["suggestions"] if s["rule"] == "chiffon-command-changed"
    )
    accepted = client.post(
        f"/suggestions/{suggestion['id']}/accept",
        data={"author": "Ada <ada@example.org>", "run_id": str(run_id), "plan_id": str(plan_id)},
    )
    assert accepted.status_code == 200
    assert str(accepted.url).endswith(f"/plans/{plan_id}/postmortem")
    assert "changed_when: false" in (settings.playbooks_dir / "fail.yml").read_text()
    # The page now checks the playbook as it is: the finding is gone.
    assert "chiffon-command-changed" not in accepted.text and "Nothing to suggest" in accepted.text
    assert "The playbook changed since this run" in accepted.text


def test_it_refuses_the_post_mortem_of_an_unknown_or_unfailed_plan(
    client: TestClient[Litestar],
) -> None:
    pending = client.post("/api/requests", json={"text": "say hello"}).json()

    assert client.get("/plans/424242/postmortem").status_code == 404
    missing = client.get("/api/plans/424242/diagnosis")
    assert missing.status_code == 404 and missing.json() == {"error": "There is no plan 424242."}
    refused = client.get(f"/api/plans/{pending['id']}/diagnosis")
    assert refused.status_code == 400 and "did not fail" in refused.json()["error"]
    assert f"/plans/{pending['id']}/postmortem" not in client.get(f"/plans/{pending['id']}").text
