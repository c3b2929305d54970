"""The embedding index with the real packaged model: incremental updates by text hash, removal,
files rebuilt when corrupt or made by another model, and off (logged once) without a model."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import pytest

from chiffon.catalog import EmbeddingIndex, Entry, EntryKind, entry_key, packaged_model_present
from chiffon.catalog._model import DOWNLOAD_HOST, reachable

from ._entries import make_entry

pytestmark = pytest.mark.skipif(
    not packaged_model_present(),
    reason="the packaged model is not installed (make install installs it)",
)

PIHOLE = make_entry("pihole", description="Network-wide ad blocking DNS sinkhole")
VAULT = make_entry("vaultwarden", description="Password manager server")
GRAFANA = make_entry("grafana", description="Dashboards and graphs for metrics")
ENTRIES = [PIHOLE, VAULT, GRAFANA]


def make_index(tmp_path: Path, model_dir: Path | None = None) -> EmbeddingIndex:
    return EmbeddingIndex(tmp_path / "index", tmp_path / "models", model_dir)


def first(index: EmbeddingIndex, text: str) -> str:
    return index.search(text)[0].key


def test_it_finds_entries_by_what_they_mean(tmp_path: Path) -> None:
    index = make_index(tmp_path)
    update = index.update(ENTRIES)

    assert (update.embedded, update.removed, update.kept, update.off) == (3, 0, 0, None)
    assert first(index, "block ads on my whole network") == entry_key(PIHOLE)
    assert first(index, "a self-hosted password manager") == entry_key(VAULT)
    found = index.search("nice charts of my metrics", k=3)
    assert found[0].key == entry_key(GRAFANA)
    assert found == sorted(found, key=lambda s: -s.similarity)
    assert 0.3 < found[0].similarity <= 1.0


def test_it_embeds_only_the_entry_that_changed(tmp_path: Path) -> None:
    index = make_index(tmp_path)
    index.update(ENTRIES)

    again = index.update(ENTRIES)
    changed = dataclasses.replace(GRAFANA, description="Collect and search log lines")
    after_change = index.update([PIHOLE, VAULT, changed])

    assert (again.embedded, again.removed, again.kept) == (0, 0, 3)
    assert (after_change.embedded, after_change.removed, after_change.kept) == (1, 1, 2)
    assert first(index, "search my logs") == entry_key(changed)


def test_it_drops_removed_entries(tmp_path: Path) -> None:
    index = make_index(tmp_path)
    index.update(ENTRIES)

    update = index.update([PIHOLE, VAULT])

    assert (update.embedded, update.removed, update.kept) == (0, 1, 2)
    keys = {s.key for s in index.search("dashboards and graphs for metrics", k=10)}
    assert keys == {entry_key(PIHOLE), entry_key(VAULT)}
    readded = index.update(ENTRIES)
    assert (readded.embedded, readded.removed) == (1, 0)
    assert first(index, "dashboards and graphs for metrics") == entry_key(GRAFANA)


def test_it_embeds_one_text_once_for_entries_that_say_the_same(tmp_path: Path) -> None:
    index = make_index(tmp_path)
    tag = dataclasses.replace(PIHOLE, kind=EntryKind.TAG, path="site.yml", tags=("pihole",))

    update = index.update([PIHOLE, tag])

    assert update.embedded == 1
    keys = [s.key for s in index.search("block ads", k=1)]
    assert sorted(keys) == sorted([entry_key(PIHOLE), entry_key(tag)])


def test_it_keeps_the_index_on_disk_for_the_next_process(tmp_path: Path) -> None:
    make_index(tmp_path).update(ENTRIES)

    later = make_index(tmp_path)
    update = later.update(ENTRIES)

    assert (update.embedded, update.kept) == (0, 3)
    assert first(later, "block ads on my whole network") == entry_key(PIHOLE)
    files = sorted(p.name for p in (tmp_path / "index").iterdir())
    assert files[0] == "index.json" and files[1].startswith("vectors-") and len(files) == 2


def _garbage_vectors(directory: Path) -> None:
    vectors = next(directory.glob("vectors-*.bin"))
    vectors.write_bytes(b"\x00garbage" * 100)


def _truncated_vectors(directory: Path) -> None:
    vectors = next(directory.glob("vectors-*.bin"))
    vectors.write_bytes(vectors.read_bytes()[:500])


def _missing_vectors(directory: Path) -> None:
    next(directory.glob("vectors-*.bin")).unlink()


def _broken_sidecar(directory: Path) -> None:
    (directory / "index.json").write_text('{"format": 1, "model": ')


def _sidecar_change(**changes: object) -> object:
    def change(directory: Path) -> None:
        sidecar = directory / "index.json"
        data = json.loads(sidecar.read_text())
        data.update(changes)
        sidecar.write_text(json.dumps(data))

    return change


@pytest.mark.parametrize(
    "spoil",
    [
        _garbage_vectors,
        _truncated_vectors,
        _missing_vectors,
        _broken_sidecar,
        _sidecar_change(model="another-model@123"),
        _sidecar_change(dimensions=768),
        _sidecar_change(vectors="../../etc/passwd"),
        _sidecar_change(labels=["not", "a", "mapping"]),
        _sidecar_change(keys={"role:ghost@roles/ghost": "no-such-text"}),
    ],
)
def test_it_rebuilds_an_unusable_index_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, spoil: object
) -> None:
    make_index(tmp_path).update(ENTRIES)
    assert callable(spoil)
    spoil(tmp_path / "index")

    with caplog.at_level(logging.WARNING, logger="chiffon.catalog.index"):
        later = make_index(tmp_path)
        update = later.update(ENTRIES)

    assert (update.embedded, update.off) == (3, None)
    assert first(later, "block ads on my whole network") == entry_key(PIHOLE)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "rebuilding it" in warnings[0]
    assert make_index(tmp_path).update(ENTRIES).embedded == 0  # the rebuilt one was saved


def test_it_turns_itself_off_without_a_model_and_says_why_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    empty = tmp_path / "no-model"
    empty.mkdir()
    index = make_index(tmp_path, model_dir=empty)

    with caplog.at_level(logging.WARNING, logger="chiffon.catalog.index"):
        updates = [index.update(ENTRIES) for _ in range(3)]
        searches = [index.search("block ads") for _ in range(3)]

    assert all(u.off and "model.onnx" in u.off for u in updates)
    assert searches == [[], [], []]
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "semantic matching is off" in warnings[0] and str(empty) in warnings[0]
    assert not (tmp_path / "index").exists()


def test_it_finds_nothing_in_an_empty_catalog_or_for_an_empty_query(tmp_path: Path) -> None:
    index = make_index(tmp_path)

    assert index.update([]).embedded == 0
    assert index.search("block ads") == []
    index.update(ENTRIES)
    assert index.search("   ") == []


async def test_it_refreshes_and_searches_on_a_worker_thread(tmp_path: Path) -> None:
    index = make_index(tmp_path)

    update = await index.refresh(ENTRIES)
    found = await index.similar("block ads on my whole network", k=1)

    assert update.embedded == 3
    assert [s.key for s in found] == [entry_key(PIHOLE)]


def test_it_reports_progress_while_embedding(tmp_path: Path) -> None:
    many: list[Entry] = [make_entry(f"svc{n}", description=f"Service {n}") for n in range(70)]
    seen: list[tuple[int, int]] = []

    make_index(tmp_path).update(many, lambda done, total: seen.append((done, total)))

    assert seen == [(0, 70), (64, 70), (70, 70)]


@pytest.mark.skipif(reachable(DOWNLOAD_HOST), reason=f"{DOWNLOAD_HOST} is reachable from here")
def test_it_is_off_at_once_when_no_package_ships_the_model_and_none_can_be_downloaded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # No such package, and no download host: the reason is logged once, without fastembed's
    # retries (40 s) or its error lines.
    index = EmbeddingIndex(
        tmp_path / "index", tmp_path / "models", packages={"no-such-model-package": ("x",)}
    )

    with caplog.at_level(logging.WARNING):
        update = index.update(ENTRIES)
        found = index.search("block ads")

    assert update.off is not None and "no-such-model-package" in update.off
    assert found == []
    assert len([r for r in caplog.records if "semantic matching is off" in r.getMessage()]) == 1
