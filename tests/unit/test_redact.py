"""Secret redaction: which names are secret, and redacting mappings, text and nested values."""

from __future__ import annotations

import pytest

from chiffon.lib.redact import (
    REDACTED,
    is_secret_name,
    redact_mapping,
    redact_text,
    redact_value,
    secret_values,
)


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "db_password",
        "DB_PASSWORD",
        "ansible_become_pass",
        "ansible_ssh_pass",
        "pass",
        "passwd",
        "mysql_root_passwd",
        "gpg_passphrase",
        "secret",
        "client_secret",
        "api_token",
        "tokens",
        "aws_credentials",
        "vault_db",
        "ansible_vault_password",
        "api_key",
        "apikey",
        "APIKey",
        "key",
        "ssh-key",
        "key_material",
    ],
)
def test_it_treats_names_that_hold_secrets_as_secret(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "monkey",
        "passenger",
        "compass",
        "keyboard",
        "hostkeys",
        "username",
        "port",
        "app_name",
        "greeting",
        "bypass",
    ],
)
def test_it_leaves_ordinary_names_alone(name: str) -> None:
    assert not is_secret_name(name)


def test_it_redacts_the_values_of_secret_keys_at_any_depth() -> None:
    variables = {
        "app": "web",
        "db_password": "hunter22",
        "database": {"host": "db", "password": "s3cr3t!", "port": 5432},
        "users": [{"name": "ann", "api_token": "tok-123"}, {"name": "bob"}],
        "db_passwords": ["pw-a1", "pw-b2"],
    }

    redacted = redact_mapping(variables)

    assert redacted == {
        "app": "web",
        "db_password": REDACTED,
        "database": {"host": "db", "password": REDACTED, "port": 5432},
        "users": [{"name": "ann", "api_token": REDACTED}, {"name": "bob"}],
        "db_passwords": [REDACTED, REDACTED],
    }


def test_it_does_not_change_the_mapping_it_redacts() -> None:
    variables = {"password": "hunter22", "nested": {"token": "abcd"}}

    redact_mapping(variables)

    assert variables == {"password": "hunter22", "nested": {"token": "abcd"}}


def test_it_redacts_short_and_non_string_secret_values_in_mappings() -> None:
    redacted = redact_mapping({"pin_pass": 1234, "token": "ab", "secret": None})

    assert redacted == {"pin_pass": REDACTED, "token": REDACTED, "secret": None}


def test_it_redacts_everything_under_a_secret_named_mapping() -> None:
    # `secrets: {db: ...}` or `vault: {...}`: the key says the whole mapping is secret.
    variables = {"secrets": {"db": "hunter22", "smtp": "mail-pw-99"}, "vault": {"x": "abcdef"}}

    redacted = redact_mapping(variables)

    text = repr(redacted)
    assert "hunter22" not in text
    assert "mail-pw-99" not in text
    assert "abcdef" not in text
    assert set(secret_values(variables)) == {"hunter22", "mail-pw-99", "abcdef"}


def test_it_collects_secret_values_longest_first() -> None:
    variables = {
        "password": "hunter22",
        "nested": {"api_token": "tok-123456789", "name": "public-name"},
        "vault_passwords": ["abcd", "abcdefghij"],
        "app": "not-secret",
    }

    assert secret_values(variables) == ["tok-123456789", "abcdefghij", "hunter22", "abcd"]


def test_it_ignores_secret_values_shorter_than_four_characters() -> None:
    # Replacing "1" or "no" everywhere in a log would hide everything and protect nothing.
    assert secret_values({"password": "abc", "token": None, "pin_pass": 12345}) == ["12345"]


def test_it_lists_a_repeated_secret_once() -> None:
    assert secret_values({"password": "same-value", "token": "same-value"}) == ["same-value"]


def test_it_redacts_every_occurrence_of_a_secret_in_text() -> None:
    text = "login with hunter22 then hunter22 again; key tok-1234"

    assert redact_text(text, ["hunter22", "tok-1234"]) == (
        f"login with {REDACTED} then {REDACTED} again; key {REDACTED}"
    )


def test_it_redacts_the_longer_secret_first_when_one_contains_another() -> None:
    secrets = secret_values({"password": "hunter", "token": "hunter22x"})

    assert redact_text("a hunter22x b hunter c", secrets) == f"a {REDACTED} b {REDACTED} c"


def test_it_leaves_text_without_secrets_unchanged() -> None:
    assert redact_text("nothing to hide", ["hunter22"]) == "nothing to hide"
    assert redact_text("nothing to hide", []) == "nothing to hide"


def test_it_redacts_secrets_inside_nested_values() -> None:
    value = {
        "msg": "connecting with hunter22",
        "results": [{"stdout": "hunter22\n", "rc": 0}, "plain"],
        "cmd": ("mysql", "-phunter22"),
        "changed": False,
    }

    redacted = redact_value(value, ["hunter22"])

    assert redacted == {
        "msg": f"connecting with {REDACTED}",
        "results": [{"stdout": f"{REDACTED}\n", "rc": 0}, "plain"],
        "cmd": ["mysql", f"-p{REDACTED}"],
        "changed": False,
    }


def test_it_returns_the_value_itself_when_there_are_no_secrets() -> None:
    value = {"msg": "hello"}

    assert redact_value(value, []) is value


def test_it_accepts_secrets_as_a_one_shot_iterator() -> None:
    value = {"a": "x hunter22", "b": ["hunter22"]}

    redacted = redact_value(value, iter(["hunter22"]))

    assert redacted == {"a": f"x {REDACTED}", "b": [REDACTED]}
