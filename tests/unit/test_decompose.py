"""Splitting requests into clauses and ordering steps."""

from __future__ import annotations

import pytest

from chiffon.planner._decompose import order_steps, split_clauses
from chiffon.planner._text import Action


def texts(request: str) -> list[str]:
    return [clause.text for clause in split_clauses(request)]


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        ("deploy grafana", ["deploy grafana"]),
        ("install docker and deploy immich", ["install docker", "deploy immich"]),
        ("install docker and then deploy immich", ["install docker", "deploy immich"]),
        ("install docker, then deploy immich", ["install docker", "deploy immich"]),
        ("set up prometheus, grafana and loki", ["set up prometheus", "grafana", "loki"]),
        ("set up prometheus, grafana, and loki", ["set up prometheus", "grafana", "loki"]),
        ("deploy ollama then open webui", ["deploy ollama", "open webui"]),
        ("install docker. After that deploy immich", ["install docker", "deploy immich"]),
        ("install docker; deploy immich", ["install docker", "deploy immich"]),
    ],
)
def test_it_splits_clauses_in_written_order(request_text: str, expected: list[str]) -> None:
    assert texts(request_text) == expected


def test_it_keeps_the_config_clause_after_the_service_it_follows() -> None:
    clauses = split_clauses(
        "Deploy Kuma Uptime to homelab and add our existing portals to the config"
    )
    assert [c.text for c in clauses] == [
        "Deploy Kuma Uptime to homelab",
        "add our existing portals to the config",
    ]
    assert [c.action for c in clauses] == [Action.INSTALL, Action.CONFIGURE]


def test_it_carries_the_verb_to_clauses_without_one() -> None:
    clauses = split_clauses("remove grafana and loki")
    assert [c.action for c in clauses] == [Action.REMOVE, Action.REMOVE]
    assert [c.own_action for c in clauses] == [True, False]


def test_it_marks_clauses_that_come_after_the_one_before() -> None:
    clauses = split_clauses("install docker and then deploy immich and grafana")
    assert [c.after_previous for c in clauses] == [False, True, False]


@pytest.mark.parametrize("request_text", ["", "   ", "🎉🎉", ", and then ;"])
def test_it_returns_no_clause_for_text_without_words(request_text: str) -> None:
    assert split_clauses(request_text) == []


def test_it_orders_steps_by_constraints_and_keeps_written_order_otherwise() -> None:
    assert order_steps(3, []) == [0, 1, 2]
    assert order_steps(3, [(2, 0)]) == [1, 2, 0]
    assert order_steps(2, [(1, 0)]) == [1, 0]


def test_it_ignores_a_constraint_that_would_make_a_cycle() -> None:
    assert order_steps(2, [(1, 0), (0, 1)]) == [1, 0]
