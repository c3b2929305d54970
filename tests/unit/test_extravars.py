"""Extra vars as ``-e`` takes them: k=v, quoted values, @file, JSON and YAML mappings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chiffon.lib.extravars import ExtraVarsError, parse_extra_vars


def _error(items: list[str], base_dir: Path | None = None) -> str:
    with pytest.raises(ExtraVarsError) as caught:
        parse_extra_vars(items, base_dir=base_dir)
    return str(caught.value)


def test_it_parses_key_value_pairs() -> None:
    assert parse_extra_vars(["app=web port=8080"]) == {"app": "web", "port": "8080"}


def test_it_keeps_an_equals_sign_inside_a_value() -> None:
    assert parse_extra_vars(["url=http://x/?a=b"]) == {"url": "http://x/?a=b"}


def test_it_accepts_an_empty_value() -> None:
    assert parse_extra_vars(["tag="]) == {"tag": ""}


def test_it_parses_quoted_values_with_spaces() -> None:
    result = parse_extra_vars(["""msg="hello big world" other='a b' plain=c"""])

    assert result == {"msg": "hello big world", "other": "a b", "plain": "c"}


def test_it_reads_a_file_relative_to_the_base_dir(tmp_path: Path) -> None:
    (tmp_path / "vars").mkdir()
    (tmp_path / "vars" / "prod.yml").write_text("---\nreplicas: 3\nname: web\nports: [80, 443]\n")

    result = parse_extra_vars(["@vars/prod.yml"], base_dir=tmp_path)

    assert result == {"replicas": 3, "name": "web", "ports": [80, 443]}


def test_it_reads_a_file_given_by_absolute_path(tmp_path: Path) -> None:
    vars_file = tmp_path / "abs.json"
    vars_file.write_text('{"level": 2}')

    assert parse_extra_vars([f"@{vars_file}"], base_dir=Path("/nonexistent")) == {"level": 2}


def test_it_treats_an_empty_file_as_no_vars(tmp_path: Path) -> None:
    (tmp_path / "empty.yml").write_text("---\n# nothing yet\n")

    assert parse_extra_vars(["@empty.yml"], base_dir=tmp_path) == {}


def test_it_parses_a_json_mapping_with_types() -> None:
    result = parse_extra_vars(['{"count": 2, "debug": true, "hosts": ["a", "b"], "x": null}'])

    assert result == {"count": 2, "debug": True, "hosts": ["a", "b"], "x": None}


def test_it_parses_a_yaml_flow_mapping() -> None:
    assert parse_extra_vars(["{count: 2, name: web}"]) == {"count": 2, "name": "web"}


def test_it_parses_a_yaml_document() -> None:
    result = parse_extra_vars(["---\nname: web\nnested:\n  a: 1\n"])

    assert result == {"name": "web", "nested": {"a": 1}}


def test_it_lets_later_items_override_earlier_ones(tmp_path: Path) -> None:
    (tmp_path / "base.yml").write_text("name: from-file\nport: 80\nkeep: yes-kept\n")

    result = parse_extra_vars(
        ["name=first port=1", "@base.yml", '{"port": 8080}', "name=last"], base_dir=tmp_path
    )

    assert result == {"name": "last", "port": 8080, "keep": "yes-kept"}


def test_it_skips_blank_items() -> None:
    assert parse_extra_vars(["", "   ", "a=1"]) == {"a": "1"}


def test_it_returns_nothing_for_no_items() -> None:
    assert parse_extra_vars([]) == {}


def test_it_rejects_a_word_without_a_value() -> None:
    message = _error(["novalue"])

    assert "novalue" in message
    assert "name=value" in message


def test_it_rejects_a_pair_without_a_name() -> None:
    message = _error(["=x"])

    assert "'=x'" in message
    assert "name=value" in message


def test_it_rejects_a_name_that_starts_with_a_digit() -> None:
    message = _error(["ok=1 1abc=2"])

    assert "1abc" in message
    assert "not a valid variable name" in message


def test_it_rejects_a_name_with_a_dash() -> None:
    assert "my-var" in _error(["my-var=1"])


def test_it_rejects_an_invalid_name_inside_a_json_mapping() -> None:
    message = _error(['{"1abc": 2}'])

    assert "1abc" in message
    assert "not a valid variable name" in message


def test_it_rejects_a_missing_file(tmp_path: Path) -> None:
    message = _error(["@missing.yml"], base_dir=tmp_path)

    assert "@missing.yml" in message
    assert "cannot read" in message


def test_it_rejects_a_file_that_holds_a_list(tmp_path: Path) -> None:
    (tmp_path / "list.yml").write_text("- a\n- b\n")

    message = _error(["@list.yml"], base_dir=tmp_path)

    assert "@list.yml" in message
    assert "mapping" in message
    assert "list" in message


def test_it_rejects_a_file_that_is_not_yaml(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text("a: [1, 2\nb: 3\n")

    message = _error(["@bad.yml"], base_dir=tmp_path)

    assert "@bad.yml" in message
    assert "not valid YAML" in message
    assert "line" in message


def test_it_rejects_a_file_whose_keys_are_not_names(tmp_path: Path) -> None:
    (tmp_path / "numbers.yml").write_text("1: one\n")

    message = _error(["@numbers.yml"], base_dir=tmp_path)

    assert "@numbers.yml" in message
    assert "not a valid variable name" in message


def test_it_rejects_yaml_that_would_build_python_objects(tmp_path: Path) -> None:
    (tmp_path / "evil.yml").write_text("x: !!python/object/apply:os.system ['true']\n")

    assert "@evil.yml" in _error(["@evil.yml"], base_dir=tmp_path)


def test_it_rejects_invalid_json() -> None:
    message = _error(['{"a": 1'])

    assert """'{"a": 1'""" in message
    assert "not valid YAML or JSON" in message


def test_it_rejects_invalid_yaml_after_a_document_marker() -> None:
    message = _error(["---\na: [1\n"])

    assert "not valid YAML or JSON" in message


def test_it_rejects_a_yaml_document_that_is_not_a_mapping() -> None:
    message = _error(["---\n- a\n- b\n"])

    assert "mapping" in message


def test_it_rejects_unbalanced_quotes() -> None:
    message = _error(["""msg="hello world"""])

    assert """msg="hello world""" in message
    assert "quotation" in message


def test_it_returns_values_that_can_be_stored_as_json(tmp_path: Path) -> None:
    # Runs store extra vars in a JSON column: a YAML date must not reach it as a date object.
    (tmp_path / "release.yml").write_text("release_date: 2024-01-01\nname: web\n")

    result = parse_extra_vars(["@release.yml"], base_dir=tmp_path)

    assert json.loads(json.dumps(result)) == {"release_date": "2024-01-01", "name": "web"}


@pytest.mark.parametrize("item", ['{"ratio": NaN}', "---\nratio: .inf\n"])
def test_it_rejects_numbers_json_cannot_hold(item: str) -> None:
    # PostgreSQL's JSON type refuses NaN and Infinity: the run could not be stored.
    message = _error([item])

    assert "ratio" in message
    assert "numbers" in message
