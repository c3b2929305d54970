"""Rescans read only what changed: hashes remembered by stat, and every kind of change noticed."""

from __future__ import annotations

import os
import time
from pathlib import Path

from chiffon.catalog._discover import Sources, find_sources

SETTLE_S = 0.2  # what the tests wait for their files to count as settled


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def settled_repo(root: Path) -> Sources:
    write(root, "play.yml", "- hosts: all\n  tasks: []\n")
    write(root, "roles/web/tasks/main.yml", "- name: Web\n  ansible.builtin.debug: {}\n")
    write(root, "roles/web/defaults/main.yml", "web_port: 80\n")
    write(root, "roles/db/tasks/main.yml", "[]\n")
    time.sleep(SETTLE_S * 1.5)
    first = find_sources(root, settle_s=SETTLE_S)
    assert first.files_read == 4
    return first


def again(root: Path, before: Sources) -> Sources:
    return find_sources(root, before.known, settle_s=SETTLE_S)


def test_it_reads_nothing_when_nothing_changed(tmp_path: Path) -> None:
    first = settled_repo(tmp_path)
    second = again(tmp_path, first)
    assert second.files_read == 0
    assert (second.playbooks, second.roles) == (first.playbooks, first.roles)


def test_it_notices_content_edited_with_the_same_size(tmp_path: Path) -> None:
    first = settled_repo(tmp_path)
    write(tmp_path, "roles/web/defaults/main.yml", "web_port: 81\n")
    write(tmp_path, "play.yml", "- hosts: web\n  tasks: []\n")
    second = again(tmp_path, first)
    assert second.files_read == 3  # the play, and both files of the web role
    assert second.playbooks["play.yml"] != first.playbooks["play.yml"]
    assert second.roles["roles/web"] != first.roles["roles/web"]
    assert second.roles["roles/db"] == first.roles["roles/db"]


def test_it_notices_an_edit_whose_modification_time_was_put_back(tmp_path: Path) -> None:
    first = settled_repo(tmp_path)
    path = tmp_path / "play.yml"
    old = path.stat()
    path.write_text("- hosts: web\n  tasks: []\n", encoding="utf-8")
    os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))  # what rsync -t or tar x do
    assert path.stat().st_size == old.st_size and path.stat().st_mtime_ns == old.st_mtime_ns
    assert again(tmp_path, first).playbooks["play.yml"] != first.playbooks["play.yml"]


def test_it_notices_files_added_and_removed(tmp_path: Path) -> None:
    first = settled_repo(tmp_path)
    write(tmp_path, "other.yml", "- hosts: all\n  tasks: []\n")
    write(tmp_path, "roles/web/templates/index.html.j2", "<h1>hi</h1>\n")
    added = again(tmp_path, first)
    assert set(added.playbooks) == {"play.yml", "other.yml"}
    assert added.roles["roles/web"] != first.roles["roles/web"]

    (tmp_path / "other.yml").unlink()
    (tmp_path / "roles/web/templates/index.html.j2").unlink()
    removed = again(tmp_path, added)
    assert set(removed.playbooks) == {"play.yml"}
    assert removed.roles["roles/web"] == first.roles["roles/web"]


def test_it_notices_a_role_directory_renamed(tmp_path: Path) -> None:
    first = settled_repo(tmp_path)
    (tmp_path / "roles/web").rename(tmp_path / "roles/www")
    renamed = again(tmp_path, first)
    assert set(renamed.roles) == {"roles/db", "roles/www"}
    assert renamed.files_read == 2  # same files, but a role never scanned under this name


def test_it_reads_a_file_again_until_it_has_settled(tmp_path: Path) -> None:
    # Two same-size writes within one tick of the file system's clock leave the same stat:
    # a file changed just before it was looked at is not trusted by its stat.
    write(tmp_path, "play.yml", "- hosts: all\n  tasks: []\n")
    first = find_sources(tmp_path)
    assert first.known == {}
    write(tmp_path, "play.yml", "- hosts: web\n  tasks: []\n")
    second = find_sources(tmp_path, first.known)
    assert second.files_read == 1 and second.playbooks != first.playbooks
