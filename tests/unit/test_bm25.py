"""The BM25 ranker."""

from __future__ import annotations

import pytest

from chiffon.planner._bm25 import BM25

DOCS = [
    ["ad", "block", "dns", "sinkhole", "network"],
    ["password", "manager", "server"],
    ["metric", "collect", "alert", "metric"],
    ["dashboard", "graph", "metric"],
]


def test_it_ranks_the_document_with_the_rarer_term_first() -> None:
    index = BM25(DOCS)
    scores = index.scores(["metric", "alert"])
    assert max(scores, key=scores.__getitem__) == 2
    assert set(scores) == {2, 3}


def test_it_gives_rare_terms_a_higher_idf() -> None:
    index = BM25(DOCS)
    assert index.idf("alert") > index.idf("metric") > 0
    assert index.idf("unknown") >= index.idf("alert")


def test_it_keeps_relative_scores_within_zero_and_one() -> None:
    index = BM25(DOCS)
    relative = index.relative(["metric", "metric", "collect", "alert"])
    assert relative and all(0 < value <= 1 for value in relative.values())


def test_it_scores_a_query_of_unknown_words_low() -> None:
    index = BM25(DOCS)
    assert index.relative(["minecraft"]) == {}
    partial = index.relative(["minecraft", "server"])
    assert partial[1] < 0.5


def test_it_weighs_coverage_by_idf() -> None:
    index = BM25(DOCS)
    coverage = index.coverage(["password", "manager", "nextcloud"])
    assert coverage[1] == pytest.approx(
        (index.idf("password") + index.idf("manager"))
        / (index.idf("password") + index.idf("manager") + index.idf("nextcloud"))
    )


def test_it_handles_an_empty_index() -> None:
    index = BM25([])
    assert index.size == 0
    assert index.scores(["anything"]) == {}
    assert "anything" not in index
