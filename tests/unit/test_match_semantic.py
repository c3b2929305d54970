"""Meaning fused into the match score, with the real packaged model on hand-made entries."""

from __future__ import annotations

import pytest

from chiffon.catalog import EmbeddingIndex, EntryKind, packaged_model_present
from chiffon.planner._match import THRESHOLD, Index
from chiffon.planner._text import Action

from ._entries import make_entry

pytestmark = pytest.mark.skipif(
    not packaged_model_present(),
    reason="the packaged model is not installed (make install installs it)",
)

ENTRIES = [
    make_entry("pihole", description="Network-wide ad blocking DNS sinkhole"),
    make_entry("grafana", description="Dashboards and graphs for metrics"),
    make_entry("stirling_pdf", description="Web tools to merge, split and convert PDF files"),
    make_entry(
        "kuma-deploy",
        EntryKind.PLAYBOOK,
        description="Deploy Uptime Kuma as a container",
        service="kuma",
    ),
    make_entry(
        "kuma-config",
        EntryKind.PLAYBOOK,
        description="Configure the HTTP monitors that check websites are up",
        service="kuma",
    ),
    make_entry("docker", description="Install Docker Engine and the compose plugin"),
]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    data = tmp_path_factory.mktemp("semantic")
    embeddings = EmbeddingIndex(data / "index", data / "models")
    assert embeddings.update(ENTRIES).off is None
    return Index(ENTRIES, embeddings.search)


def test_it_matches_a_close_description_by_meaning(index: Index) -> None:
    hits = index.search("merge and split PDFs in the browser", Action.INSTALL)

    assert hits[0].entry.name == "stirling_pdf" and hits[0].score >= THRESHOLD
    assert hits[0].reason.startswith("meaning 0.")


def test_it_ranks_a_loose_description_first_without_matching_it(index: Index) -> None:
    hits = index.search("stop ads on the wifi", Action.INSTALL)

    assert hits[0].entry.name == "pihole"
    assert hits[0].score < THRESHOLD


def test_it_lends_a_playbooks_meaning_to_the_other_playbooks_of_its_service(
    index: Index,
) -> None:
    # Only kuma-config says what Uptime Kuma is for; to install it is kuma-deploy's job.
    hits = index.search("something to check my websites are up", Action.INSTALL)

    assert [h.entry.name for h in hits[:2]] == ["kuma-deploy", "kuma-config"]
    assert hits[0].reason.startswith("meaning ")


def test_it_leaves_named_entries_to_the_name_matcher(index: Index) -> None:
    hits = index.search("grafana", Action.INSTALL)

    assert hits[0].entry.name == "grafana" and hits[0].reason == "name 'grafana'"
    assert hits[0].score >= 0.9


def test_it_finds_nothing_by_meaning_for_words_without_content(index: Index) -> None:
    assert index.meaning("please do it") == {}
    assert index.meaning("") == {}
