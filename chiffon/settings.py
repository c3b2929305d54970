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

__all__ = ["LlmProvider", "Settings", "SettingsError", "load_settings"]

LOG_LEVELS = ("debug", "info", "warning", "error")


class SettingsError(Exception):
    """A setting has a value Chiffon cannot use; the message says which and what is allowed."""


@dataclass(frozen=True)
class LlmProvider:
    """An OpenAI-compatible endpoint the planner may ask, from a ``[[llm.providers]]`` table.

    ``quota_tokens`` is the most tokens (prompt + completion) to spend per
    ``quota_window_hours``; None means no quota (a local model).
    """

    name: str
    base_url: str
    model: str
    api_key: str = field(default="none", repr=False)  # local servers ignore it
    timeout_s: float = 20.0
    quota_tokens: int | None = None
    quota_window_hours: float = 24.0


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
    head_start: bool = True  # `chiffon run` starts ansible-playbook (held) while it gets ready
    ansible_lint: str = ""  # empty: the ansible-lint installed beside Chiffon, else PATH's
    lint_timeout_seconds: float = 120.0
    local_agent_host: str = "localhost"  # the inventory host Chiffon runs on; empty: no agent
    agent_heartbeat_seconds: float = 30.0
    agent_offline_seconds: float = 90.0
    agent_flood_seconds: float = 2.0  # after a burst of 5, one heartbeat per this many seconds
    heartbeat_retention_hours: float = 24.0
    capacity_wait_seconds: float = 3600.0  # a run paused for capacity fails after this
    # In priority order (local first); empty: the deterministic planner only.
    llm_providers: tuple[LlmProvider, ...] = ()
    embeddings: bool = True  # semantic matching of requests to catalog entries
    embedding_model_dir: Path | None = None  # None: the packaged model, else a download
    require_second_approver: bool = False  # the requester of a plan may not approve it
    session_hours: float = 14 * 24.0  # how long a browser stays signed in

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


def _float_in(low: float, high: float) -> Callable[[str], float]:
    def parse(value: str) -> float:
        number = float(value)
        if not math.isfinite(number) or not low <= number <= high:
            raise ValueError(value)
        return number

    return parse


def _host_name(value: str) -> str:
    if any(char.isspace() or char in ",:" for char in value) or len(value) > 255:
        raise ValueError(value)
    return value


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
    "head_start": (_bool, "true or false (also 1/0, yes/no, on/off)"),
    "ansible_lint": (str, "the path of the ansible-lint executable"),
    "lint_timeout_seconds": (_positive_float, "a number above 0"),
    "local_agent_host": (_host_name, "an inventory host name without spaces, or empty"),
    "agent_heartbeat_seconds": (_float_in(1, 3600), "a number of seconds from 1 to 3600"),
    "agent_offline_seconds": (_float_in(3, 86400), "a number of seconds from 3 to 86400"),
    "agent_flood_seconds": (_float_in(0.01, 3600), "a number of seconds from 0.01 to 3600"),
    "heartbeat_retention_hours": (_float_in(0.1, 24 * 3650), "a number of hours from 0.1"),
    "capacity_wait_seconds": (_float_in(1, 30 * 86400), "a number of seconds from 1 to 2592000"),
    "embeddings": (_bool, "true or false (also 1/0, yes/no, on/off)"),
    "embedding_model_dir": (_path, "a directory holding model.onnx and tokenizer.json"),
    "require_second_approver": (_bool, "true or false (also 1/0, yes/no, on/off)"),
    "session_hours": (_float_in(0.1, 24 * 365), "a number of hours from 0.1 to 8760"),
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
    table = dict(data.get("chiffon", data))
    llm = table.pop("llm", None) or data.get("llm")
    unknown = sorted(set(table) - set(_PARSERS))
    if unknown:
        raise SettingsError(
            f"CHIFFON_CONFIG={path}: unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(_PARSERS))}."
        )
    if llm is not None:
        table["llm_providers"] = _llm_providers(llm, f"CHIFFON_CONFIG={path}")
    return table


_PROVIDER_KEYS = {
    "name",
    "base_url",
    "model",
    "api_key_file",
    "timeout_s",
    "quota_tokens",
    "quota_window_hours",
}


def _llm_providers(llm: object, origin: str) -> tuple[LlmProvider, ...]:
    """The ``[[llm.providers]]`` tables, checked; raise ``SettingsError`` naming the bad one."""
    if not isinstance(llm, dict) or set(llm) - {"providers"}:
        raise SettingsError(f"{origin}: [llm] may hold only [[llm.providers]] tables.")
    tables = llm.get("providers", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise SettingsError(f"{origin}: write each LLM provider as a [[llm.providers]] table.")
    providers: list[LlmProvider] = []
    for number, table in enumerate(tables, start=1):
        where = f"{origin}: [[llm.providers]] #{number}"
        providers.append(_llm_provider(table, where))
    names = [p.name for p in providers]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SettingsError(f"{origin}: LLM provider names must differ ({', '.join(twice)}).")
    return tuple(providers)


def _llm_provider(table: dict[str, Any], where: str) -> LlmProvider:
    unknown = sorted(set(table) - _PROVIDER_KEYS)
    if unknown:
        raise SettingsError(
            f"{where}: unknown key(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(_PROVIDER_KEYS))}."
        )
    for key in ("name", "base_url", "model"):
        if not isinstance(table.get(key), str) or not table[key].strip():
            raise SettingsError(f"{where}: `{key}` is required (a non-empty string).")
    name, base_url = table["name"].strip(), table["base_url"].strip()
    where = f"{where} ({name})"
    if not base_url.startswith(("http://", "https://")):
        raise SettingsError(
            f"{where}: base_url={base_url!r} must start with http:// or https:// "
            "(e.g. http://127.0.0.1:11434/v1 for Ollama)."
        )
    api_key = "none"
    if "api_key_file" in table:
        try:
            api_key = Path(str(table["api_key_file"])).expanduser().read_text().strip()
        except OSError as error:
            raise SettingsError(
                f"{where}: api_key_file {table['api_key_file']}: cannot read it ({error.strerror})."
            ) from None
        if not api_key:
            raise SettingsError(f"{where}: api_key_file {table['api_key_file']} is empty.")
    timeout = table.get("timeout_s", 20.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 600:
        raise SettingsError(
            f"{where}: timeout_s={timeout!r} must be a number of seconds, 0 to 600."
        )
    quota = table.get("quota_tokens")
    if quota is not None and (isinstance(quota, bool) or not isinstance(quota, int) or quota < 1):
        raise SettingsError(f"{where}: quota_tokens={quota!r} must be a positive whole number.")
    window = table.get("quota_window_hours", 24.0)
    if isinstance(window, bool) or not isinstance(window, int | float) or not window > 0:
        raise SettingsError(f"{where}: quota_window_hours={window!r} must be a number above 0.")
    return LlmProvider(
        name=name,
        base_url=base_url.rstrip("/"),
        model=table["model"].strip(),
        api_key=api_key,
        timeout_s=float(timeout),
        quota_tokens=quota,
        quota_window_hours=float(window),
    )


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Return the settings from the TOML file and the environment; raise ``SettingsError``."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config = env.get("CHIFFON_CONFIG")
    if config:
        for name, raw in _read_toml(_path(config)).items():
            if name == "llm_providers":
                values[name] = raw  # checked by _llm_providers
                continue
            values[name] = _parse(name, raw, f"{name} in {config}")
    for item in fields(Settings):
        var = "CHIFFON_" + item.name.upper()
        if item.name not in _PARSERS:
            continue  # a list of tables: only in the TOML file
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
