"""LLM providers from `[[llm.providers]]` tables in the CHIFFON_CONFIG file, and bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from chiffon.settings import LlmProvider, SettingsError, load_settings

OLLAMA = """
[[llm.providers]]
name = "ollama"
base_url = "http://127.0.0.1:11434/v1/"
model = "qwen2.5:7b-instruct"
timeout_s = 15
"""


def _load(tmp_path: Path, text: str) -> tuple[LlmProvider, ...]:
    config = tmp_path / "chiffon.toml"
    config.write_text(text)
    return load_settings({"CHIFFON_CONFIG": str(config)}).llm_providers


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(SettingsError) as caught:
        _load(tmp_path, text)
    return str(caught.value)


def test_it_reads_providers_in_priority_order_with_a_key_from_a_file(tmp_path: Path) -> None:
    key = tmp_path / "openai.key"
    key.write_text("sk-test-123\n")
    providers = _load(
        tmp_path,
        OLLAMA
        + f"""
[[llm.providers]]
name = "openai"
base_url = "https://api.openai.com/v1"
model = "gpt-4o-mini"
api_key_file = "{key}"
quota_tokens = 200000
quota_window_hours = 24
""",
    )
    assert [p.name for p in providers] == ["ollama", "openai"]
    ollama, external = providers
    assert ollama == LlmProvider(
        "ollama", "http://127.0.0.1:11434/v1", "qwen2.5:7b-instruct", timeout_s=15.0
    )
    assert ollama.quota_tokens is None and ollama.api_key == "none"
    assert external.api_key == "sk-test-123" and external.quota_tokens == 200_000
    assert "sk-test" not in repr(external)


def test_it_reads_providers_beside_a_chiffon_table(tmp_path: Path) -> None:
    providers = _load(tmp_path, "[chiffon]\nport = 9000\n" + OLLAMA)
    assert [p.name for p in providers] == ["ollama"]


def test_it_has_no_providers_by_default() -> None:
    assert load_settings({}).llm_providers == ()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('name = "x"\nbase_url = "http://h/v1"', "`model` is required"),
        ('name = "x"\nmodel = "m"\nbase_url = "ftp://h"', "must start with http:// or https://"),
        ('name = "x"\nmodel = "m"\nbase_url = "http://h"\ntimeout_s = 0', "timeout_s=0"),
        ('name = "x"\nmodel = "m"\nbase_url = "http://h"\nquota_tokens = -5', "quota_tokens=-5"),
        ('name = "x"\nmodel = "m"\nbase_url = "http://h"\nquota_tokens = "lots"', "quota_tokens"),
        ('name = "x"\nmodel = "m"\nbase_url = "http://h"\nquota_window_hours = 0', "quota_window"),
        (
            'name = "x"\nmodel = "m"\nbase_url = "http://h"\napi_key = "sk-1"',
            "unknown key(s) api_key",
        ),
        (
            'name = "x"\nmodel = "m"\nbase_url = "http://h"\napi_key_file = "/nonexistent/key"',
            "cannot read it",
        ),
    ],
)
def test_it_stops_start_up_for_a_bad_provider(tmp_path: Path, table: str, message: str) -> None:
    error = _error(tmp_path, "[[llm.providers]]\n" + table + "\n")
    assert "[[llm.providers]] #1" in error
    assert message in error
    assert "sk-1" not in error


def test_it_rejects_two_providers_with_one_name(tmp_path: Path) -> None:
    assert "must differ (ollama)" in _error(tmp_path, OLLAMA + OLLAMA)


def test_it_rejects_an_empty_key_file(tmp_path: Path) -> None:
    key = tmp_path / "empty.key"
    key.write_text("\n")
    error = _error(tmp_path, OLLAMA + f'api_key_file = "{key}"\n')
    assert "is empty" in error


def test_it_rejects_llm_settings_that_are_not_provider_tables(tmp_path: Path) -> None:
    assert "[[llm.providers]]" in _error(tmp_path, '[llm]\nmodel = "m"\n')
    assert "[[llm.providers]]" in _error(tmp_path, '[llm]\nproviders = "ollama"\n')
