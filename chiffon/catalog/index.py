"""The catalog's embedding index: what each entry says, embedded with fastembed and searched with
hnswlib, kept on disk and updated by content hash.

The only module that imports fastembed and hnswlib, both on first use: they take half a second
to import and most commands never need them. The model itself loads only when there is
something to embed (a new text, a query), so checking an unchanged catalog costs a file read.
Files in ``directory``:

- ``vectors-<id>.bin``: the hnswlib graph (cosine space), one vector per distinct entry text;
- ``index.json``: the sidecar (see ``_index_files``): model identity, dimensions, the vectors
  file's name and sha256, hnswlib label per text hash, text hash per entry key.

Every file is written under a temporary name and renamed into place, the sidecar last: it is the
commit point, so a crash leaves the previous index whole. An unreadable, corrupt or mismatched
index (another model, other dimensions, a vectors file that is not the one the sidecar names)
is rebuilt with a warning. When no model can be loaded, the reason is logged once and every
search finds nothing, so the planner goes on with names and words.

The methods without ``async`` block (embedding is CPU work): call them from a worker thread,
as ``refresh`` and ``similar`` do.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chiffon.catalog._embedding_text import entry_key, entry_text, text_digest
from chiffon.catalog._entry import Entry
from chiffon.catalog._index_files import (
    IndexCorrupt,
    Sidecar,
    new_vectors_name,
    read_sidecar,
    sha256,
    temporary_path,
    write_sidecar,
)
from chiffon.catalog._model import MODEL_NAME, PACKAGES, ModelSource, choose_source
from chiffon.lib.progressbar import LoggedProgress

log = logging.getLogger("chiffon.catalog.index")

_BATCH = 64
# One onnxruntime thread: a query (a few words) gains nothing from more, and a cold build of
# 1,000 entries measured 4.7 CPU-seconds with one thread against 7.8 with two on a busy 2-core
# machine, where idle threads spin. Chiffon shares its host with Ansible runs.
_THREADS = 1
# One loaded model per process, whichever index asks (a model is ~100 MB in memory).
_MODELS: dict[tuple[str, str], Any] = {}
_MODELS_LOCK = threading.Lock()
_QUERY_CACHE = 256
Progress = Callable[[int, int], None]  # (texts embedded so far, texts to embed)


@dataclass(frozen=True)
class IndexUpdate:
    """What ``update`` did: distinct entry texts embedded, dropped and kept as they were.
    ``off`` says why semantic matching is off (then nothing was done)."""

    embedded: int
    removed: int
    kept: int
    seconds: float
    off: str | None = None


@dataclass(frozen=True)
class Similar:
    """An entry (by ``entry_key``) and the cosine similarity of its text to the query."""

    key: str
    similarity: float


@dataclass
class _State:
    label_of_text: dict[str, int] = field(default_factory=dict)  # text hash -> hnswlib label
    text_of_key: dict[str, str] = field(default_factory=dict)  # entry key -> text hash
    keys_of_label: dict[int, list[str]] = field(default_factory=dict)
    graph: Any = None  # hnswlib.Index, made when the first vectors come
    dimensions: int = 0

    def relink(self) -> None:
        self.keys_of_label = {}
        for key, digest in sorted(self.text_of_key.items()):
            self.keys_of_label.setdefault(self.label_of_text[digest], []).append(key)


class EmbeddingIndex:
    """Entry texts embedded once each and searched by meaning; see the module docstring."""

    def __init__(
        self,
        directory: Path,
        models_dir: Path,
        model_dir: Path | None = None,
        packages: Mapping[str, tuple[str, ...]] = PACKAGES,
    ) -> None:
        """``model_dir`` names the model's folder (else the ``packages`` that ship it are
        looked for, else it is downloaded into ``models_dir``)."""
        self.directory = Path(directory)
        self._models_dir = Path(models_dir)
        self._model_dir = model_dir
        self._packages = packages
        self._update_lock = threading.Lock()  # one update at a time
        self._state_lock = threading.Lock()  # the graph is not safe to search while it grows
        self._load_lock = threading.Lock()  # the source, the stored index and the model load once
        self._cache_lock = threading.Lock()
        self._source: ModelSource | None = None
        self._model: Any = None
        self._off: str | None = None
        self._state: _State | None = None
        self._queries: dict[str, Any] = {}

    @property
    def off(self) -> str | None:
        """Why semantic matching is off (no model could be loaded), or None."""
        return self._off

    @property
    def source(self) -> ModelSource | None:
        """Where the model comes from, once an update or search has looked."""
        return self._source

    async def refresh(
        self, entries: Sequence[Entry], progress: Progress | None = None
    ) -> IndexUpdate:
        """``update`` on a worker thread."""
        return await asyncio.to_thread(self.update, entries, progress)

    async def similar(self, text: str, k: int = 10) -> list[Similar]:
        """``search`` on a worker thread."""
        return await asyncio.to_thread(self.search, text, k)

    def update(self, entries: Sequence[Entry], progress: Progress | None = None) -> IndexUpdate:
        """Make the index hold exactly ``entries``: texts not seen before are embedded, texts
        no entry has any more are dropped, the rest are kept. Blocks; ``progress`` is called
        with (done, total) while texts are embedded."""
        with self._update_lock:
            started = time.perf_counter()
            texts = {entry_key(entry): entry_text(entry) for entry in entries}
            wanted = {key: text_digest(text) for key, text in texts.items()}
            if self._stored() is None:
                return IndexUpdate(0, 0, 0, 0.0, self._off)
            fresh, stale, kept = self._changes(texts, wanted)
            if not fresh and not stale and wanted == self._known_keys():
                return IndexUpdate(0, 0, kept, _since(started))
            if fresh:
                if not self._loaded_model():
                    return IndexUpdate(0, 0, 0, _since(started), self._off)
                fresh, stale, kept = self._changes(texts, wanted)  # the model may reset it
                log.info("embedding %d catalog texts for semantic matching", len(fresh))
            report = progress or LoggedProgress(log, "embedded %d of %d catalog texts")
            vectors = self._embed(list(fresh.values()), report) if fresh else None
            if fresh and vectors is None:
                return IndexUpdate(0, 0, 0, _since(started), self._off)
            with self._state_lock:
                self._apply(list(fresh), vectors, stale, wanted)
            try:
                self._save()
            except OSError as error:  # it still works from memory; the next start rebuilds
                log.warning("cannot save the embedding index in %s: %s", self.directory, error)
            seconds = _since(started)
            if fresh:
                log.info("embedded %d texts in %.1f s (%d kept)", len(fresh), seconds, kept)
            return IndexUpdate(len(fresh), len(stale), kept, seconds)

    def search(self, text: str, k: int = 10) -> list[Similar]:
        """The keys of the entries whose texts are nearest to ``text`` (the ``k`` nearest
        texts; entries sharing a text come together), most similar first. Nothing when
        semantic matching is off or the index is empty. Blocks."""
        if not text.strip() or self._stored() is None or not self._loaded_model():
            return []
        vector = self._query_vector(text)
        if vector is None:
            return []
        with self._state_lock:
            state = self._state
            if state is None or state.graph is None or not state.label_of_text:
                return []
            wanted = min(k, len(state.label_of_text))
            state.graph.set_ef(max(64, 2 * wanted))
            try:
                labels, distances = state.graph.knn_query(vector, k=wanted)
            except RuntimeError as error:  # hnswlib could not reach k live elements
                log.debug("embedding search for %r failed: %s", text, error)
                return []
            found = [
                Similar(key, round(1.0 - float(distance), 4))
                for label, distance in zip(labels[0], distances[0], strict=True)
                for key in state.keys_of_label.get(int(label), [])
            ]
        return sorted(found, key=lambda s: (-s.similarity, s.key))

    # -- loading ------------------------------------------------------------------------------

    def _stored(self) -> _State | None:
        """The index as stored (read once; an empty one when there is none or it is unusable),
        or None when no model source can be found at all."""
        if self._state is not None or self._off is not None:
            return self._state
        with self._load_lock:
            if self._state is None and self._off is None:
                try:
                    self._source = choose_source(self._model_dir, self._models_dir, self._packages)
                except Exception as error:  # a bad folder, an unreadable install record
                    self._turn_off(f"no embedding model could be loaded ({_one_line(error)})")
                    return None
                self._state = self._read()
        return self._state

    def _read(self) -> _State:
        import hnswlib

        assert self._source is not None
        try:
            sidecar = read_sidecar(self.directory, self._source.identity)
            if sidecar is None:
                return _State()
            graph = hnswlib.Index(space="cosine", dim=sidecar.dimensions)
            graph.load_index(str(self.directory / sidecar.vectors), allow_replace_deleted=True)
            if not set(sidecar.labels.values()) <= {int(i) for i in graph.get_ids_list()}:
                raise IndexCorrupt(f"{sidecar.vectors} lacks vectors that the sidecar lists")
        except (OSError, RuntimeError, IndexCorrupt) as error:
            log.warning(
                "the embedding index in %s cannot be used (%s): rebuilding it",
                self.directory,
                _one_line(error),
            )
            return _State()
        state = _State(dict(sidecar.labels), dict(sidecar.keys), graph=graph)
        state.dimensions = sidecar.dimensions
        state.relink()
        return state

    def _loaded_model(self) -> bool:
        """Load the model once; False (and the reason logged once) when it cannot be."""
        if self._model is not None or self._off is not None:
            return self._off is None
        with self._load_lock:
            if self._model is None and self._off is None:
                try:
                    self._load_model()
                except Exception as error:  # fastembed/onnxruntime raise many kinds: all "off"
                    self._turn_off(f"no embedding model could be loaded ({_one_line(error)})")
        return self._off is None

    def _load_model(self) -> None:
        from fastembed import TextEmbedding
        from loguru import logger as fastembed_log

        # fastembed logs each failed download try as an error (six lines when offline); the
        # one line that matters is ours, "semantic matching is off: ...".
        fastembed_log.disable("fastembed")

        source = self._source
        assert source is not None and self._state is not None
        with _MODELS_LOCK:
            model = _MODELS.get((source.identity, source.weights))
            if model is None:
                where: dict[str, Any] = (
                    {"specific_model_path": str(source.folder)}
                    if source.folder is not None
                    else {"cache_dir": str(source.cache_dir)}
                )
                model = TextEmbedding(MODEL_NAME, threads=_THREADS, **where)
                _MODELS[(source.identity, source.weights)] = model
        dimensions = len(next(iter(model.embed(["probe"]))))
        log.info("semantic matching uses %s (%d dimensions)", source.described, dimensions)
        with self._state_lock:
            if self._state.dimensions not in (0, dimensions):
                log.warning(
                    "the embedding index in %s has %d dimensions, the model %d: rebuilding it",
                    self.directory,
                    self._state.dimensions,
                    dimensions,
                )
                self._state = _State()
            self._state.dimensions = dimensions
        self._model = model

    def _turn_off(self, reason: str) -> None:
        self._off = reason
        log.warning("semantic matching is off: %s; plans use names and words only", reason)

    # -- embedding ----------------------------------------------------------------------------

    def _embed(self, texts: list[str], progress: Progress | None) -> Any:
        import numpy as np

        chunks: list[Any] = []
        if progress is not None:
            progress(0, len(texts))
        try:
            for start in range(0, len(texts), _BATCH):
                batch = texts[start : start + _BATCH]
                chunks.extend(self._model.embed(batch, batch_size=_BATCH))
                if progress is not None:
                    progress(start + len(batch), len(texts))
        except Exception as error:  # onnxruntime failing mid-way: the same as no model
            self._turn_off(f"the embedding model failed ({_one_line(error)})")
            return None
        return np.asarray(chunks, dtype=np.float32)

    def _query_vector(self, text: str) -> Any:
        with self._cache_lock:
            cached = self._queries.get(text)
        if cached is not None:
            return cached
        vector = self._embed([text], None)
        if vector is not None:
            with self._cache_lock:
                if len(self._queries) >= _QUERY_CACHE:
                    self._queries.pop(next(iter(self._queries)))
                self._queries[text] = vector
        return vector

    # -- changing and saving --------------------------------------------------------------------

    def _known_keys(self) -> dict[str, str]:
        return self._state.text_of_key if self._state is not None else {}

    def _changes(
        self, texts: dict[str, str], wanted: dict[str, str]
    ) -> tuple[dict[str, str], list[str], int]:
        """(text hash -> text to embed, text hashes to drop, texts kept)."""
        assert self._state is not None
        known = self._state.label_of_text
        fresh = {d: texts[key] for key, d in wanted.items() if d not in known}
        needed = set(wanted.values())
        stale = [d for d in known if d not in needed]
        return fresh, stale, len(known) - len(stale)

    def _apply(
        self, fresh: list[str], vectors: Any, stale: list[str], wanted: dict[str, str]
    ) -> None:
        import hnswlib

        state = self._state
        assert state is not None
        for digest in stale:
            state.graph.mark_deleted(state.label_of_text.pop(digest))
        if fresh:
            if state.graph is None:
                state.graph = hnswlib.Index(space="cosine", dim=state.dimensions)
                state.graph.init_index(
                    max_elements=max(len(fresh), 16),
                    ef_construction=200,
                    M=16,
                    allow_replace_deleted=True,
                )
            taken = {int(label) for label in state.graph.get_ids_list()}
            labels = [n for n in range(len(taken) + len(fresh)) if n not in taken][: len(fresh)]
            needed = len(state.label_of_text) + len(fresh)
            if needed > state.graph.get_max_elements():
                state.graph.resize_index(max(needed, 2 * state.graph.get_max_elements()))
            state.graph.add_items(vectors, labels, replace_deleted=True)
            state.label_of_text.update(zip(fresh, labels, strict=True))
        state.text_of_key = dict(wanted)
        state.relink()

    def _save(self) -> None:
        assert self._source is not None and self._state is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        name = new_vectors_name()
        temporary = temporary_path(self.directory / name)
        with self._state_lock:
            state = self._state
            if state.graph is None:
                return  # nothing was ever embedded: nothing worth keeping
            state.graph.save_index(str(temporary))
            sidecar = Sidecar(
                model=self._source.identity,
                dimensions=state.dimensions,
                vectors=name,
                sha256=sha256(temporary),
                labels=dict(state.label_of_text),
                keys=dict(state.text_of_key),
            )
        os.replace(temporary, self.directory / name)
        write_sidecar(self.directory, sidecar)


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:300]
