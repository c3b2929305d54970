"""The embedding index's files: the sidecar read and checked, files written atomically, leftovers
removed. Knows nothing of hnswlib (``index.py`` loads and saves the graph itself)."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = 1
SIDECAR = "index.json"
_GRACE_S = 60.0


class IndexCorrupt(Exception):
    """The stored index cannot be used as it is; the message says why."""


@dataclass(frozen=True)
class Sidecar:
    """What ``index.json`` says: which model made the vectors, where they are (checked against
    their sha256), the hnswlib label of each text hash and the text hash of each entry key."""

    model: str
    dimensions: int
    vectors: str
    sha256: str
    labels: dict[str, int]
    keys: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, **self.__dict__}


def read_sidecar(directory: Path, model: str) -> Sidecar | None:
    """The sidecar in ``directory``, checked: None when there is none yet. Raises
    ``IndexCorrupt`` (or ``OSError``) when it, or the vectors file it names, cannot be used
    with ``model``."""
    path = directory / SIDECAR
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise IndexCorrupt(f"{SIDECAR} is not an index of format {FORMAT}")
        sidecar = Sidecar(
            model=str(data["model"]),
            dimensions=int(data["dimensions"]),
            vectors=str(data["vectors"]),
            sha256=str(data["sha256"]),
            labels={str(d): int(label) for d, label in dict(data["labels"]).items()},
            keys={str(key): str(d) for key, d in dict(data["keys"]).items()},
        )
    except (ValueError, KeyError, TypeError) as error:  # JSONDecodeError is a ValueError
        raise IndexCorrupt(f"{SIDECAR} is unreadable ({error})") from None
    if sidecar.model != model:
        raise IndexCorrupt(f"it was built with another model ({sidecar.model})")
    if sidecar.dimensions <= 0:
        raise IndexCorrupt(f"{SIDECAR} says the vectors have {sidecar.dimensions} dimensions")
    name = sidecar.vectors
    if Path(name).name != name or not name.startswith("vectors-"):
        raise IndexCorrupt(f"{SIDECAR} names a strange vectors file {name!r}")
    if not set(sidecar.keys.values()) <= set(sidecar.labels):
        raise IndexCorrupt("an entry points at a text that has no vector")
    if sha256(directory / name) != sidecar.sha256:
        raise IndexCorrupt(f"{name} is not the file {SIDECAR} describes")
    found = _stored_dimensions(directory / name)
    if found != sidecar.dimensions:
        raise IndexCorrupt(f"{name} holds {found}-dimensional vectors, not {sidecar.dimensions}")
    return sidecar


def _stored_dimensions(path: Path) -> int:
    """The vectors' dimensions as hnswlib's file header gives them: hnswlib loads a file into an
    index of any dimensions without a word, and then reads past its vectors.

    The header starts with six size_t: level-0 offset, max elements, element count, bytes per
    element, label offset and data offset; a vector (float32) lies between the last two."""
    with path.open("rb") as handle:
        header = handle.read(48)
    if len(header) < 48:
        raise IndexCorrupt(f"{path.name} is too short to be an hnswlib index")
    label_offset, data_offset = struct.unpack("<6Q", header)[4:6]
    return (label_offset - data_offset) // 4 if label_offset > data_offset else 0


def new_vectors_name() -> str:
    return f"vectors-{uuid.uuid4().hex[:16]}.bin"


def temporary_path(path: Path) -> Path:
    """A unique name beside ``path`` to write to before renaming over it."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")


def write_sidecar(directory: Path, sidecar: Sidecar) -> None:
    """Write ``index.json`` atomically (the commit point), then drop older files."""
    path = directory / SIDECAR
    temporary = temporary_path(path)
    temporary.write_text(json.dumps(sidecar.to_json(), sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)
    _remove_others(directory, keep=sidecar.vectors)


def _remove_others(directory: Path, keep: str) -> None:
    # Older vectors files and temporary files a crash left; only a minute after they were
    # written, so that another process saving at the same moment keeps its files.
    for path in [*directory.glob("vectors-*.bin"), *directory.glob(".*.tmp")]:
        if path.name != keep and time.time() - _mtime(path) > _GRACE_S:
            path.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return time.time()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
