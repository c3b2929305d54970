"""The prompt that asks a model to explain a failure, and the check of its answer."""

from __future__ import annotations

import json

import pytest

from chiffon.planner._explain import (
    EXPLANATION_CHARS,
    ExplanationError,
    check_explanation,
    explanation_prompt,
)


def test_it_sends_the_facts_as_json_with_long_texts_cut() -> None:
    system, user = explanation_prompt({"class": "nonzero", "line": 5, "error": "x" * 5000})

    assert system["role"] == "system" and '{"explanation":' in system["content"]
    facts = json.loads(user["content"][user["content"].index("{") :])
    assert facts["class"] == "nonzero" and facts["line"] == 5
    assert len(facts["error"]) == 2000


@pytest.mark.parametrize("data", [None, {}, {"explanation": "  "}, {"explanation": ["a"]}])
def test_it_refuses_an_answer_without_an_explanation(data: dict[str, object] | None) -> None:
    with pytest.raises(ExplanationError, match='no "explanation" string'):
        check_explanation(data)


def test_it_tidies_and_cuts_an_explanation() -> None:
    assert check_explanation({"explanation": " two\n  lines "}) == "two lines"
    long = check_explanation({"explanation": "word " * 1000})
    assert len(long) == EXPLANATION_CHARS and long.endswith("…")
