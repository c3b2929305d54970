"""The agent protocol: the versioned JSON a heartbeat carries, built and checked here.

Standard library only: the agent process imports this module and must stay light.

A heartbeat (protocol 1.x)::

    {"protocol": "1.0", "name": "gpu-box", "inventory_host": "gpu-box",
     "labels": ["gpu", "docker"], "sent_at": "2026-11-22T05:00:00+00:00", "agent_version": "0.1.0",
     "resources": {"cpu": {"percent": 12.5, "cores_total": 16, "cores_free": 14.0},
                   "memory": {"total_mb": 64000, "available_mb": 51000},
                   "disk": {"path": "/", "total_mb": 900000, "free_mb": 420000},
                   "gpus": [{"index": 0, "name": "RTX 4090", "vram_total_mb": 24564,
                             "vram_free_mb": 20000, "utilization_percent": 3}]}}

``name``, ``inventory_host``, ``labels``, ``sent_at`` and ``agent_version`` are optional. A
minor version may add optional fields (a server ignores fields it does not know); a new major
version is refused with 409 and the list of majors the server speaks.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

PROTOCOL_VERSION = "1.0"
SUPPORTED_MAJORS = (1,)
MAX_BODY_BYTES = 64 * 1024

# Far beyond any homelab machine, so only nonsense (a unit mix-up, an overflow) is refused.
MAX_CORES = 4096
MAX_MEMORY_MB = 64 * 1024 * 1024  # 64 TiB
MAX_DISK_MB = 1024**4  # 1 EiB
MAX_VRAM_MB = 1024 * 1024  # 1 TiB per GPU
MAX_GPUS = 64
MAX_LABELS = 32
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_LABEL = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
_HOST = re.compile(r"^[^\s,:]{1,255}$")


class ProtocolError(Exception):
    """A heartbeat that cannot be used; the message says which field and what is allowed."""


class UnsupportedProtocol(ProtocolError):
    """The heartbeat speaks a protocol major version this server does not."""


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    vram_total_mb: int
    vram_free_mb: int
    utilization_percent: float


@dataclass(frozen=True)
class Resources:
    cpu_percent: float
    cores_total: int
    cores_free: float
    memory_total_mb: int
    memory_available_mb: int
    disk_path: str
    disk_total_mb: int
    disk_free_mb: int
    gpus: tuple[Gpu, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "cpu": {
                "percent": self.cpu_percent,
                "cores_total": self.cores_total,
                "cores_free": self.cores_free,
            },
            "memory": {
                "total_mb": self.memory_total_mb,
                "available_mb": self.memory_available_mb,
            },
            "disk": {
                "path": self.disk_path,
                "total_mb": self.disk_total_mb,
                "free_mb": self.disk_free_mb,
            },
            "gpus": [asdict(gpu) for gpu in self.gpus],
        }


@dataclass(frozen=True)
class Heartbeat:
    resources: Resources
    protocol: str = PROTOCOL_VERSION
    name: str | None = None
    inventory_host: str | None = None
    labels: tuple[str, ...] | None = None
    sent_at: dt.datetime | None = None
    agent_version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"protocol": self.protocol, "resources": self.resources.to_json()}
        if self.name is not None:
            body["name"] = self.name
        if self.inventory_host is not None:
            body["inventory_host"] = self.inventory_host
        if self.labels is not None:
            body["labels"] = list(self.labels)
        if self.sent_at is not None:
            body["sent_at"] = self.sent_at.isoformat()
        if self.agent_version is not None:
            body["agent_version"] = self.agent_version
        return body


def supported_versions() -> str:
    return ", ".join(f"{major}.x" for major in SUPPORTED_MAJORS)


def check_protocol(body: Any) -> str:
    """The heartbeat's protocol version; raise ``UnsupportedProtocol`` or ``ProtocolError``."""
    if not isinstance(body, dict):
        raise ProtocolError("A heartbeat must be a JSON object.")
    version = body.get("protocol")
    if not isinstance(version, str) or not re.fullmatch(r"\d{1,4}\.\d{1,4}", version):
        raise ProtocolError(
            f'"protocol" must be a version string such as "{PROTOCOL_VERSION}" '
            f"(this server speaks {supported_versions()})."
        )
    if int(version.split(".")[0]) not in SUPPORTED_MAJORS:
        raise UnsupportedProtocol(
            f"Protocol {version} is not spoken here: this server speaks {supported_versions()}. "
            "Install the same Chiffon version on the agent as on the server."
        )
    return version


def parse_heartbeat(body: Any) -> Heartbeat:
    """The checked heartbeat in ``body`` (decoded JSON).

    Raises ``UnsupportedProtocol`` for another major version and ``ProtocolError`` naming the
    first field that is missing or out of range.
    """
    version = check_protocol(body)
    return Heartbeat(
        protocol=version,
        resources=parse_resources(_object(body, "resources", "resources")),
        name=_optional_text(body, "name", _NAME, "letters, digits, '.', '_' or '-'"),
        inventory_host=_optional_text(body, "inventory_host", _HOST, "a host name"),
        labels=_labels(body.get("labels")),
        sent_at=_sent_at(body.get("sent_at")),
        agent_version=_optional_text(body, "agent_version", re.compile(r"^\S{1,32}$"), "a version"),
    )


def _object(parent: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    if key not in parent:
        raise ProtocolError(f'"{where}" is missing.')
    value = parent[key]
    if not isinstance(value, dict):
        raise ProtocolError(f'"{where}" must be an object.')
    return value


def _number(parent: dict[str, Any], key: str, where: str, high: float) -> float:
    if key not in parent:
        raise ProtocolError(f'"{where}.{key}" is missing.')
    value = parent[key]
    # bool is an int in Python; `true` for a core count is a bug on the sender's side.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProtocolError(f'"{where}.{key}" must be a number, not {value!r}.')
    if value < 0:
        raise ProtocolError(f'"{where}.{key}" cannot be negative ({value}).')
    if value > high:
        raise ProtocolError(f'"{where}.{key}" = {value} is beyond the possible maximum {high:g}.')
    return float(value)


def _cpu(cpu: dict[str, Any]) -> dict[str, Any]:
    total = int(_number(cpu, "cores_total", "resources.cpu", MAX_CORES))
    if total < 1:
        raise ProtocolError('"resources.cpu.cores_total" must be at least 1.')
    free = _number(cpu, "cores_free", "resources.cpu", total)
    percent = _number(cpu, "percent", "resources.cpu", 100)
    return {"cpu_percent": round(percent, 1), "cores_total": total, "cores_free": round(free, 2)}


def _memory(memory: dict[str, Any]) -> dict[str, Any]:
    total = int(_number(memory, "total_mb", "resources.memory", MAX_MEMORY_MB))
    available = int(_number(memory, "available_mb", "resources.memory", total))
    return {"memory_total_mb": total, "memory_available_mb": available}


def _disk(disk: dict[str, Any]) -> dict[str, Any]:
    total = int(_number(disk, "total_mb", "resources.disk", MAX_DISK_MB))
    free = int(_number(disk, "free_mb", "resources.disk", total))
    path = disk.get("path", "/")
    if not isinstance(path, str) or not 0 < len(path) <= 255:
        raise ProtocolError('"resources.disk.path" must be a path of at most 255 characters.')
    return {"disk_path": path, "disk_total_mb": total, "disk_free_mb": free}


def _gpus(value: Any) -> tuple[Gpu, ...]:
    if not isinstance(value, list):
        raise ProtocolError('"resources.gpus" must be a list (empty when there is no GPU).')
    if len(value) > MAX_GPUS:
        raise ProtocolError(f'"resources.gpus" lists {len(value)} GPUs; at most {MAX_GPUS}.')
    gpus = []
    for position, gpu in enumerate(value):
        where = f"resources.gpus[{position}]"
        if not isinstance(gpu, dict):
            raise ProtocolError(f'"{where}" must be an object.')
        name = gpu.get("name")
        if not isinstance(name, str) or not 0 < len(name) <= 100:
            raise ProtocolError(f'"{where}.name" must be a name of at most 100 characters.')
        total = int(_number(gpu, "vram_total_mb", where, MAX_VRAM_MB))
        gpus.append(
            Gpu(
                index=int(_number(gpu, "index", where, MAX_GPUS)),
                name=name,
                vram_total_mb=total,
                vram_free_mb=int(_number(gpu, "vram_free_mb", where, total)),
                utilization_percent=_number(gpu, "utilization_percent", where, 100),
            )
        )
    return tuple(gpus)


def _optional_text(body: dict[str, Any], key: str, pattern: re.Pattern[str], what: str) -> Any:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not pattern.match(value):
        raise ProtocolError(f'"{key}" must be {what}, not {value!r}.')
    return value


def _labels(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_LABELS:
        raise ProtocolError(f'"labels" must be a list of at most {MAX_LABELS} labels.')
    for label in value:
        if not isinstance(label, str) or not _LABEL.match(label):
            raise ProtocolError(
                f'"labels": {label!r} is not a label (lower-case letters, digits, ".", "_", "-").'
            )
    return tuple(sorted(set(value)))


def _sent_at(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    try:
        sent = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        sent = None
    if sent is None or sent.tzinfo is None:
        raise ProtocolError('"sent_at" must be an ISO 8601 time with a UTC offset.')
    return sent.astimezone(dt.UTC)


def check_label(label: str) -> str:
    """``label`` if it is a valid label; raise ``ProtocolError``."""
    _labels([label])
    return label


def check_agent_name(name: str) -> str:
    """``name`` if it is a valid agent name; raise ``ProtocolError``."""
    if not _NAME.match(name):
        raise ProtocolError(
            f"{name!r} is not an agent name: use letters, digits, '.', '_' or '-' (at most 100)."
        )
    return name


def parse_resources(value: Any) -> Resources:
    """Resources from their JSON form (``Resources.to_json``); raise ``ProtocolError``."""
    if not isinstance(value, dict):
        raise ProtocolError('"resources" must be an object.')
    return Resources(
        **_cpu(_object(value, "cpu", "resources.cpu")),
        **_memory(_object(value, "memory", "resources.memory")),
        **_disk(_object(value, "disk", "resources.disk")),
        gpus=_gpus(value.get("gpus", [])),
    )
