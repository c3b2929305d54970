"""Name matching and fused scores on hand-made entries."""

from __future__ import annotations

import pytest

from chiffon.catalog import EntryKind
from chiffon.planner._match import THRESHOLD, Index
from chiffon.planner._text import Action

from ._entries import make_entry

ENTRIES = [
    make_entry("homeassistant"),
    make_entry("healthchecks"),
    make_entry("nginx_proxy_manager", description="Reverse proxy with a web UI"),
    make_entry("uptime_kuma"),
    make_entry("kuma-deploy", EntryKind.PLAYBOOK, service="kuma"),
    make_entry("kuma-remove", EntryKind.PLAYBOOK, service="kuma"),
    make_entry("vaultwarden", description="Password manager server"),
    make_entry("changedetection"),
]


@pytest.fixture(scope="module")
def index() -> Index:
    return Index(ENTRIES)


def best(index: Index, text: str, action: Action | None = Action.INSTALL) -> str | None:
    hits = index.search(text, action)
    return hits[0].entry.name if hits and hits[0].score >= THRESHOLD else None


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("deploy Home Assistant", "homeassistant"),
        ("install healthchecks.io", "healthchecks"),
        ("deploy nginx-proxy-manager", "nginx_proxy_manager"),
        ("deploy Nginx Proxy Manager", "nginx_proxy_manager"),
        ("deploy Kuma Uptime", "uptime_kuma"),
        ("set up valtwarden", "vaultwarden"),
    ],
)
def test_it_matches_names_whatever_their_spelling(index: Index, text: str, name: str) -> None:
    assert best(index, text) == name


def test_it_reads_the_action_in_a_playbook_name(index: Index) -> None:
    assert best(index, "deploy kuma") == "kuma-deploy"
    assert best(index, "remove kuma", Action.REMOVE) == "kuma-remove"


def test_it_answers_no_match_for_unknown_things(index: Index) -> None:
    for text in ("install a minecraft server", "set up nextcloud", "asdf qwerty", "🎉"):
        assert best(index, text) is None


def test_it_offers_a_compound_name_said_in_part_as_a_candidate(index: Index) -> None:
    hits = index.search("watch websites for changes", None)
    assert hits[0].entry.name == "changedetection"
    assert hits[0].score < THRESHOLD


def test_it_keeps_one_entry_per_name_preferring_a_playbook() -> None:
    role = make_entry("grafana")
    playbook = make_entry("grafana", EntryKind.PLAYBOOK)
    assert [e.kind for e in Index([role, playbook]).entries] == [EntryKind.PLAYBOOK]
