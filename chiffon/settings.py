"""Settings: the only module that reads the environment.

Values come from, in rising priority: defaults, a TOML file named by ``CHIFFON_CONFIG``, and
``CHIFFON_*`` environment variables. A secret may be given as ``CHIFFON_X_FILE`` (a path whose
contents are the value). A bad value stops start-up with a ``SettingsError`` that names the
variable and what is allowed.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

__all__ = ["Settings", "SettingsError", "load_settings"]

LOG_LEVELS = ("debug", "info", "warning", "error")


class SettingsError(Exception):
    """A setting has a value Chiffon cannot use; the message says which and what is allowed."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path(".chiffon")
    database_url: str = ""  # empty: SQLite file in data_dir
    playbooks_dir: Path = Path("playbooks")
    inventory: str = ""  # empty: discovered in the playbook repo
    host: str = "127.0.0.1"
    port: int = 8484
    log_level: str = "info"
    secret_key: str = field(default="", repr=False)
    event_batch_size: int = 500
    cancel_grace_seconds: float = 0.5
    embeddings: bool = True  # semantic matching of requests to catalog entries
    embedding_model_dir: Path | None = None  # None: the packaged model, else a download

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'chiffon.db').resolve()}"

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"

    @property
    def audit_dir(self) -> Path:
        return self.data_dir / "audit"

    @property
    def index_dir(self) -> Path:
        """Where the catalog's embedding index lives."""
        return self.data_dir / "index"

    @property
    def models_dir(self) -> Path:
        """Where the embedding model is assembled from its packages (or downloaded to)."""
        return self.data_dir / "models"

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def _path(value: str) -> Path:
    return Path(value).expanduser()


def _int_in(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        number = int(value)
        if not low <= number <= high:
            raise ValueError(value)
        return number

    return parse


def _positive_float(value: str) -> float:
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(value)
    return number


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(value)


def _log_level(value: str) -> str:
    if value.lower() not in LOG_LEVELS:
        raise ValueError(value)
    return value.lower()


def _database_url(value: str) -> str:
    allowed = ("sqlite+aiosqlite://", "postgresql+psycopg://")
    if value and not value.startswith(allowed):
        raise ValueError(value)
    return value


_PARSERS: dict[str, tuple[Callable[[str], Any], str]] = {
    "data_dir": (_path, "a directory path"),
    "database_url": (
        _database_url,
        "a URL starting with sqlite+aiosqlite:// or postgresql+psycopg://",
    ),
    "playbooks_dir": (_path, "a directory path"),
    "inventory": (str, "an inventory path"),
    "host": (str, "an address"),
    "port": (_int_in(1, 65535), "an integer from 1 to 65535"),
    "log_level": (_log_level, "one of " + ", ".join(LOG_LEVELS)),
    "secret_key": (str, "a string"),
    "event_batch_size": (_int_in(1, 100_000), "an integer from 1 to 100000"),
    "cancel_grace_seconds": (_positive_float, "a number above 0"),
    "embeddings": (_bool, "true or false (also 1/0, yes/no, on/off)"),
    "embedding_model_dir": (_path, "a directory holding model.onnx and tokenizer.json"),
}
_SECRETS = {"database_url", "secret_key"}


def _parse(name: str, raw: object, origin: str) -> Any:
    parser, allowed = _PARSERS[name]
    try:
        return parser(str(raw))
    except ValueError:
        shown = "(hidden)" if name in _SECRETS else repr(raw)
        raise SettingsError(f"{origin}={shown} is not valid: expected {allowed}.") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise SettingsError(f"CHIFFON_CONFIG={path}: cannot read it ({error.strerror}).") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"CHIFFON_CONFIG={path}: not valid TOML ({error}).") from None
    table = data.get("chiffon", data)
    unknown = sorted(set(table) - set(_PARSERS))
    if unknown:
        raise SettingsError(
            f"CHIFFON_CONFIG={path}: unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(_PARSERS))}."
        )
    return dict(table)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Return the settings from the TOML file and the environment; raise ``SettingsError``."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config = env.get("CHIFFON_CONFIG")
    if config:
        for name, raw in _read_toml(_path(config)).items():
            values[name] = _parse(name, raw, f"{name} in {config}")
    for item in fields(Settings):
        var = "CHIFFON_" + item.name.upper()
        if var in env:
            values[item.name] = _parse(item.name, env[var], var)
        file_var = var + "_FILE"
        if item.name in _SECRETS and env.get(file_var):
            try:
                secret = Path(env[file_var]).read_text().strip()
            except OSError as error:
                raise SettingsError(f"{file_var}: cannot read it ({error.strerror}).") from None
            values[item.name] = _parse(item.name, secret, file_var)
    return Settings(**values)
