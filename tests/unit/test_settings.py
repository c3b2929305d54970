"""Settings: defaults, CHIFFON_* variables, *_FILE secrets, the TOML file, and bad values."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chiffon.settings import Settings, SettingsError, load_settings

SECRET_URL = "postgresql+psycopg://chiffon:s3cr3t-pw@db.example/chiffon"


def _error(environ: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ)
    return str(caught.value)


def test_it_has_defaults_for_an_empty_environment() -> None:
    settings = load_settings({})

    assert settings == Settings()
    assert settings.data_dir == Path(".chiffon")
    assert settings.database_url == ""
    assert settings.playbooks_dir == Path("playbooks")
    assert settings.inventory == ""
    assert settings.host == "127.0.0.1"
    assert settings.port == 8484
    assert settings.log_level == "info"
    assert settings.secret_key == ""
    assert settings.event_batch_size == 500
    assert settings.cancel_grace_seconds == 0.5


def test_it_uses_a_sqlite_file_in_the_data_dir_when_no_database_url_is_set(
    tmp_path: Path,
) -> None:
    settings = load_settings({"CHIFFON_DATA_DIR": str(tmp_path / "data")})

    assert settings.effective_database_url == (
        f"sqlite+aiosqlite:///{(tmp_path / 'data' / 'chiffon.db').resolve()}"
    )
    assert settings.runs_dir == tmp_path / "data" / "runs"
    assert settings.audit_dir == tmp_path / "data" / "audit"


def test_it_reads_every_chiffon_variable(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "CHIFFON_DATA_DIR": str(tmp_path / "data"),
            "CHIFFON_DATABASE_URL": SECRET_URL,
            "CHIFFON_PLAYBOOKS_DIR": str(tmp_path / "repo"),
            "CHIFFON_INVENTORY": "inventory/prod.yml",
            "CHIFFON_HOST": "::1",
            "CHIFFON_PORT": "9000",
            "CHIFFON_LOG_LEVEL": "WARNING",
            "CHIFFON_SECRET_KEY": "k" * 32,
            "CHIFFON_EVENT_BATCH_SIZE": "50",
            "CHIFFON_CANCEL_GRACE_SECONDS": "1.5",
        }
    )

    assert settings.data_dir == tmp_path / "data"
    assert settings.database_url == SECRET_URL
    assert settings.effective_database_url == SECRET_URL
    assert settings.playbooks_dir == tmp_path / "repo"
    assert settings.inventory == "inventory/prod.yml"
    assert settings.host == "::1"
    assert settings.port == 9000
    assert settings.log_level == "warning"
    assert settings.secret_key == "k" * 32
    assert settings.event_batch_size == 50
    assert settings.cancel_grace_seconds == 1.5


def test_it_expands_a_home_directory_in_paths() -> None:
    settings = load_settings({"CHIFFON_DATA_DIR": "~/chiffon-data"})

    assert settings.data_dir == Path("~/chiffon-data").expanduser()
    assert "~" not in str(settings.data_dir)


def test_it_accepts_a_sqlite_database_url() -> None:
    url = "sqlite+aiosqlite:////var/lib/chiffon/chiffon.db"

    assert load_settings({"CHIFFON_DATABASE_URL": url}).database_url == url


def test_it_accepts_the_port_range_limits() -> None:
    assert load_settings({"CHIFFON_PORT": "1"}).port == 1
    assert load_settings({"CHIFFON_PORT": "65535"}).port == 65535


def test_it_ignores_variables_that_are_not_settings() -> None:
    settings = load_settings({"CHIFFON_UNRELATED": "x", "PORT": "1", "HOME": "/nowhere"})

    assert settings == Settings()


def test_it_keeps_the_secret_key_out_of_repr() -> None:
    settings = load_settings({"CHIFFON_SECRET_KEY": "very-secret-value"})

    assert "very-secret-value" not in repr(settings)


@pytest.mark.parametrize("value", ["0", "70000", "abc", "-1", "80.5", ""])
def test_it_rejects_a_bad_port_naming_the_variable_and_the_range(value: str) -> None:
    message = _error({"CHIFFON_PORT": value})

    assert "CHIFFON_PORT" in message
    assert "from 1 to 65535" in message
    assert repr(value) in message


def test_it_rejects_an_unknown_log_level_listing_the_allowed_ones() -> None:
    message = _error({"CHIFFON_LOG_LEVEL": "loud"})

    assert "CHIFFON_LOG_LEVEL" in message
    assert "'loud'" in message
    for level in ("debug", "info", "warning", "error"):
        assert level in message


def test_it_rejects_a_database_url_of_another_dialect_without_echoing_it() -> None:
    message = _error({"CHIFFON_DATABASE_URL": "mysql://admin:hunter22@x/db"})

    assert "CHIFFON_DATABASE_URL" in message
    assert "sqlite+aiosqlite://" in message
    assert "postgresql+psycopg://" in message
    assert "hunter22" not in message
    assert "mysql" not in message


def test_it_rejects_a_plain_postgresql_url_that_names_no_driver() -> None:
    message = _error({"CHIFFON_DATABASE_URL": "postgresql://x@db/chiffon"})

    assert "postgresql+psycopg://" in message


@pytest.mark.parametrize("value", ["0", "-5", "100001", "many"])
def test_it_rejects_a_bad_event_batch_size(value: str) -> None:
    message = _error({"CHIFFON_EVENT_BATCH_SIZE": value})

    assert "CHIFFON_EVENT_BATCH_SIZE" in message
    assert "from 1 to 100000" in message


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan", "inf"])
def test_it_rejects_a_cancel_grace_that_is_not_a_finite_positive_number(value: str) -> None:
    message = _error({"CHIFFON_CANCEL_GRACE_SECONDS": value})

    assert "CHIFFON_CANCEL_GRACE_SECONDS" in message
    assert "above 0" in message


def test_it_reads_secrets_from_files(tmp_path: Path) -> None:
    url_file = tmp_path / "database-url"
    url_file.write_text(SECRET_URL + "\n")
    key_file = tmp_path / "secret-key"
    key_file.write_text("  key-from-a-file  \n")

    settings = load_settings(
        {
            "CHIFFON_DATABASE_URL_FILE": str(url_file),
            "CHIFFON_SECRET_KEY_FILE": str(key_file),
        }
    )

    assert settings.database_url == SECRET_URL
    assert settings.secret_key == "key-from-a-file"


def test_it_rejects_a_bad_database_url_in_a_file_without_echoing_it(tmp_path: Path) -> None:
    url_file = tmp_path / "database-url"
    url_file.write_text("mysql://admin:hunter22@x/db\n")

    message = _error({"CHIFFON_DATABASE_URL_FILE": str(url_file)})

    assert "CHIFFON_DATABASE_URL_FILE" in message
    assert "postgresql+psycopg://" in message
    assert "hunter22" not in message


def test_it_stops_with_a_clear_error_when_a_secret_file_is_missing(tmp_path: Path) -> None:
    message = _error({"CHIFFON_SECRET_KEY_FILE": str(tmp_path / "absent")})

    assert "CHIFFON_SECRET_KEY_FILE" in message
    assert "No such file or directory" in message


def test_it_stops_with_a_clear_error_when_a_secret_file_is_a_directory(tmp_path: Path) -> None:
    message = _error({"CHIFFON_DATABASE_URL_FILE": str(tmp_path)})

    assert "CHIFFON_DATABASE_URL_FILE" in message
    assert "cannot read" in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_it_stops_with_a_clear_error_when_a_secret_file_is_unreadable(tmp_path: Path) -> None:
    key_file = tmp_path / "secret-key"
    key_file.write_text("key")
    key_file.chmod(0)

    message = _error({"CHIFFON_SECRET_KEY_FILE": str(key_file)})

    assert "CHIFFON_SECRET_KEY_FILE" in message
    assert "Permission denied" in message


def test_it_reads_a_toml_file_with_top_level_keys(tmp_path: Path) -> None:
    config = tmp_path / "chiffon.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\nport = 9100\nlog_level = "debug"\n'
        "event_batch_size = 10\ncancel_grace_seconds = 2\n"
    )

    settings = load_settings({"CHIFFON_CONFIG": str(config)})

    assert settings.data_dir == tmp_path / "data"
    assert settings.port == 9100
    assert settings.log_level == "debug"
    assert settings.event_batch_size == 10
    assert settings.cancel_grace_seconds == 2.0


def test_it_reads_a_toml_file_with_a_chiffon_table(tmp_path: Path) -> None:
    config = tmp_path / "chiffon.toml"
    config.write_text(f'[chiffon]\nport = 9200\ndatabase_url = "{SECRET_URL}"\n')

    settings = load_settings({"CHIFFON_CONFIG": str(config)})

    assert settings.port == 9200
    assert settings.database_url == SECRET_URL


def test_it_lets_the_environment_override_the_toml_file(tmp_path: Path) -> None:
    config = tmp_path / "chiffon.toml"
    config.write_text('port = 9300\nlog_level = "debug"\n')

    settings = load_settings({"CHIFFON_CONFIG": str(config), "CHIFFON_PORT": "9400"})

    assert settings.port == 9400
    assert settings.log_level == "debug"


def test_it_rejects_unknown_toml_keys_listing_the_known_ones(tmp_path: Path) -> None:
    config = tmp_path / "chiffon.toml"
    config.write_text("port = 9000\nprot = 9001\nbind = 'x'\n")

    message = _error({"CHIFFON_CONFIG": str(config)})

    assert str(config) in message
    assert "bind, prot" in message
    for known in ("data_dir", "database_url", "playbooks_dir", "port", "log_level"):
        assert known in message


def test_it_rejects_a_file_that_is_not_toml(tmp_path: Path) -> None:
    config = tmp_path / "chiffon.toml"
    config.write_text("port = = 9000\n")

    message = _error({"CHIFFON_CONFIG": str(config)})

    assert "CHIFFON_CONFIG" in message
    assert "not valid TOML" in message
    assert "line 1" in message


def test_it_rejects_a_missing_toml_file(tmp_path: Path) -> None:
    message = _error({"CHIFFON_CONFIG": str(tmp_path / "absent.toml")})

    assert "CHIFFON_CONFIG" in message
    assert "cannot read" in message


def test_it_rejects_a_bad_value_in_the_toml_file_naming_the_key_and_the_file(
    tmp_path: Path,
) -> None:
    config = tmp_path / "chiffon.toml"
    config.write_text("port = 70000\n")

    message = _error({"CHIFFON_CONFIG": str(config)})

    assert "port" in message
    assert str(config) in message
    assert "from 1 to 65535" in message


def test_it_hides_a_bad_database_url_in_the_toml_file(tmp_path: Path) -> None:
    config = tmp_path / "chiffon.toml"
    config.write_text('database_url = "mysql://admin:hunter22@x/db"\n')

    message = _error({"CHIFFON_CONFIG": str(config)})

    assert "database_url" in message
    assert "hunter22" not in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [("false", False), ("0", False), ("Off", False), ("no", False), ("true", True), ("1", True)],
)
def test_it_reads_whether_embeddings_are_on(value: str, expected: bool) -> None:
    assert load_settings({"CHIFFON_EMBEDDINGS": value}).embeddings is expected


def test_it_keeps_the_embedding_index_and_model_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(
        {"CHIFFON_DATA_DIR": str(tmp_path), "CHIFFON_EMBEDDING_MODEL_DIR": "~/minilm"}
    )

    assert settings.embeddings is True
    assert settings.index_dir == tmp_path / "index"
    assert settings.models_dir == tmp_path / "models"
    assert settings.embedding_model_dir == Path("~/minilm").expanduser()
    assert load_settings({}).embedding_model_dir is None


@pytest.mark.parametrize("value", ["maybe", "", "2"])
def test_it_rejects_an_embeddings_value_that_is_not_a_boolean(value: str) -> None:
    message = _error({"CHIFFON_EMBEDDINGS": value})

    assert "CHIFFON_EMBEDDINGS" in message and "true or false" in message


def test_it_reads_embeddings_off_from_the_toml_file(tmp_path: Path) -> None:
    config = tmp_path / "chiffon.toml"
    config.write_text("[chiffon]\nembeddings = false\n")

    assert load_settings({"CHIFFON_CONFIG": str(config)}).embeddings is False
