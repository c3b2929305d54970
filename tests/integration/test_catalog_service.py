"""CatalogService against a real database (SQLite and PostgreSQL) and a copy of the sample repo."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from sqlalchemy import update

from chiffon.catalog import (
    CatalogError,
    CatalogService,
    EntryKind,
    EntryNotFound,
    Inventory,
    PathOutsideRepo,
)
from chiffon.catalog.models import CatalogEntry
from chiffon.db import SessionFactory

SAMPLE_ENTRIES = 12  # 6 playbooks, 3 roles, 3 tags of site.yml


@pytest.fixture
def catalog(session_factory: SessionFactory, sample_repo: Path) -> CatalogService:
    return CatalogService(session_factory, sample_repo)


async def test_it_stores_every_entry_of_the_repo(catalog: CatalogService) -> None:
    result = await catalog.scan()
    assert (result.parsed, result.reused, result.removed) == (SAMPLE_ENTRIES, 0, 0)
    assert result.seconds >= 0
    assert [(e.kind, e.name) for e in result.entries] == [
        (EntryKind.PLAYBOOK, "broken"),
        (EntryKind.PLAYBOOK, "fail"),
        (EntryKind.PLAYBOOK, "hello"),
        (EntryKind.PLAYBOOK, "site"),
        (EntryKind.PLAYBOOK, "slow"),
        (EntryKind.PLAYBOOK, "vars-demo"),
        (EntryKind.ROLE, "common"),
        (EntryKind.ROLE, "monitor"),
        (EntryKind.ROLE, "web"),
        (EntryKind.TAG, "base"),
        (EntryKind.TAG, "monitor"),
        (EntryKind.TAG, "web"),
    ]
    assert result.inventories[0] == Inventory("inventory/hosts.yml", "ansible.cfg")
    demo = next(e for e in result.entries if e.name == "vars-demo")
    assert demo.id is not None
    assert await catalog.get_entry(demo.id) == demo
    assert demo.to_json()["variables"][3] == {
        "name": "admin_email",
        "default": "admin@example.com",
        "source": "vars_prompt",
    }
    assert demo.header == {
        "service": "demo",
        "description": "Show how variables reach a play (play vars, prompts, extra vars)",
        "requires": ["hello"],
        "rollback": "hello.yml",
    }
    assert await catalog.get_entry(10_000_000) is None


async def test_it_keeps_unchanged_entries_as_stored(
    catalog: CatalogService, session_factory: SessionFactory
) -> None:
    first = await catalog.scan()
    # Only a rewrite would undo this edit: an unchanged entry must stay as stored.
    async with session_factory() as session, session.begin():
        await session.execute(update(CatalogEntry).values(description="kept from the database"))
    second = await catalog.scan()
    assert (second.parsed, second.reused, second.removed) == (0, SAMPLE_ENTRIES, 0)
    # The scan read back only ids, keys and hashes (its entries are the ones it knew), and
    # wrote nothing: the database still says what the edit made it say.
    assert {e.description for e in await catalog.list_entries()} == {"kept from the database"}
    assert [e.id for e in second.entries] == [e.id for e in first.entries]


async def test_it_parses_a_changed_file_again_and_keeps_its_id(
    catalog: CatalogService, sample_repo: Path
) -> None:
    await catalog.scan()
    before = await catalog.resolve("fail")
    path = sample_repo / "fail.yml"
    path.write_text(path.read_text().replace("Fail on purpose", "Fail deliberately"))
    result = await catalog.scan()
    after = await catalog.resolve("fail")
    assert (result.parsed, result.reused) == (1, SAMPLE_ENTRIES - 1)
    assert after.id == before.id
    assert after.description == "Fail deliberately"
    assert after.content_hash != before.content_hash


async def test_it_rebuilds_the_tags_of_a_role_that_changed(
    catalog: CatalogService, sample_repo: Path
) -> None:
    await catalog.scan()
    defaults = sample_repo / "roles/web/defaults/main.yml"
    defaults.write_text(defaults.read_text().replace("web_port: 8080", "web_port: 9090"))
    result = await catalog.scan()
    assert (result.parsed, result.reused, result.removed) == (2, SAMPLE_ENTRIES - 2, 0)
    tag = await catalog.resolve("tag:web")
    assert tag.variables[0].name == "web_port"
    assert tag.variables[0].default == 9090
    assert tag.variables[0].source == "roles/web/defaults/main.yml"


async def test_it_removes_entries_whose_files_vanished(
    catalog: CatalogService, sample_repo: Path
) -> None:
    await catalog.scan()
    (sample_repo / "slow.yml").unlink()
    shutil.rmtree(sample_repo / "roles/monitor")
    result = await catalog.scan()
    # slow.yml, the monitor role, and the monitor tag whose role is gone is rebuilt (changed)
    assert (result.parsed, result.removed) == (1, 2)
    assert [e.name for e in await catalog.list_entries(kind=EntryKind.ROLE)] == ["common", "web"]
    monitor_tag = await catalog.resolve("tag:monitor")
    assert monitor_tag.description == "role monitor (not in roles/) (site.yml --tags monitor)"
    with pytest.raises(EntryNotFound):
        await catalog.resolve("slow.yml")


async def test_it_updates_an_entry_that_became_broken_and_then_fixed(
    catalog: CatalogService, sample_repo: Path
) -> None:
    await catalog.scan()
    path = sample_repo / "hello.yml"
    good = path.read_text()
    path.write_text(good + "  - oops: [\n")
    await catalog.scan()
    broken = await catalog.resolve("hello")
    assert broken.valid is False
    assert (broken.error or "").startswith("hello.yml: line ")
    path.write_text(good)
    await catalog.scan()
    fixed = await catalog.resolve("hello")
    assert (fixed.valid, fixed.error, fixed.id) == (True, None, broken.id)


# --- resolve ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "kind", "name"),
    [
        ("hello.yml", EntryKind.PLAYBOOK, "hello"),
        ("./hello.yml", EntryKind.PLAYBOOK, "hello"),
        ("roles/../hello.yml", EntryKind.PLAYBOOK, "hello"),
        ("site.yml", EntryKind.PLAYBOOK, "site"),
        ("roles/web", EntryKind.ROLE, "web"),
        ("roles/web/", EntryKind.ROLE, "web"),
        ("role:web", EntryKind.ROLE, "web"),
        ("tag:web", EntryKind.TAG, "web"),
        ("playbook:hello", EntryKind.PLAYBOOK, "hello"),
        ("web", EntryKind.TAG, "web"),  # a tag wins over a role of the same name
        ("  hello  ", EntryKind.PLAYBOOK, "hello"),
        ("common", EntryKind.ROLE, "common"),
    ],
)
async def test_it_resolves_paths_kinds_and_names(
    catalog: CatalogService, ref: str, kind: EntryKind, name: str
) -> None:
    await catalog.scan()
    entry = await catalog.resolve(ref)
    assert (entry.kind, entry.name) == (kind, name)


async def test_it_prefers_a_playbook_when_a_name_is_shared(
    catalog: CatalogService, sample_repo: Path
) -> None:
    (sample_repo / "playbooks").mkdir()
    shutil.copy(sample_repo / "hello.yml", sample_repo / "web.yml")
    shutil.copy(sample_repo / "hello.yml", sample_repo / "playbooks/web.yml")
    await catalog.scan()
    entry = await catalog.resolve("web")
    assert (entry.kind, entry.path) == (EntryKind.PLAYBOOK, "web.yml")
    assert (await catalog.resolve("playbooks/web.yml")).path == "playbooks/web.yml"


async def test_it_resolves_an_invalid_entry_as_invalid(catalog: CatalogService) -> None:
    await catalog.scan()
    entry = await catalog.resolve("broken.yml")
    assert entry.valid is False
    assert entry.error is not None


async def test_it_resolves_a_symlink_inside_the_repo_to_its_target(
    catalog: CatalogService, sample_repo: Path
) -> None:
    await catalog.scan()
    (sample_repo / "latest").symlink_to(sample_repo / "hello.yml")
    assert (await catalog.resolve("latest")).path == "hello.yml"


async def test_it_resolves_each_ref_as_resolve_does_with_none_for_the_refused(
    catalog: CatalogService,
) -> None:
    await catalog.scan()
    found = ["hello.yml", "./hello.yml", "roles/web", "tag:web", "web", "  hello  ", "broken.yml"]
    refused = ["nothing-like-it", "../../etc/passwd", "/etc/passwd", "a\x00b", ""]
    resolved = await catalog.resolve_each(found + refused)
    assert resolved == {
        **{ref: await catalog.resolve(ref) for ref in found},
        **dict.fromkeys(refused),
    }


@pytest.mark.parametrize(
    "ref", ["../../etc/passwd", "/etc/passwd", "~/playbook.yml", "roles/../../x.yml", "a\x00b"]
)
async def test_it_refuses_paths_outside_the_repo(catalog: CatalogService, ref: str) -> None:
    await catalog.scan()
    with pytest.raises(PathOutsideRepo, match=r"CHIFFON_PLAYBOOKS_DIR|not a valid path"):
        await catalog.resolve(ref)


async def test_it_refuses_a_symlink_that_points_out_of_the_repo(
    catalog: CatalogService, sample_repo: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "evil.yml").write_text((sample_repo / "hello.yml").read_text())
    (sample_repo / "evil.yml").symlink_to(outside / "evil.yml")
    (sample_repo / "elsewhere").symlink_to(outside)
    result = await catalog.scan()
    assert "evil" not in {e.name for e in result.entries}
    for ref in ("evil.yml", "elsewhere/evil.yml"):
        with pytest.raises(PathOutsideRepo) as caught:
            await catalog.resolve(ref)
        assert str(caught.value).startswith(f"{ref!r} is outside the playbook repo: paths must")
        assert "CHIFFON_PLAYBOOKS_DIR" in str(caught.value)
    with pytest.raises(PathOutsideRepo):
        catalog.safe_path("elsewhere")


async def test_it_names_close_matches_for_an_unknown_entry(catalog: CatalogService) -> None:
    await catalog.scan()
    with pytest.raises(EntryNotFound) as caught:
        await catalog.resolve("helo")
    assert str(caught.value) == (
        "no catalog entry matches 'helo'. Did you mean hello? If the playbook repo changed, "
        "run `chiffon catalog scan`."
    )
    with pytest.raises(EntryNotFound, match=r"matches 'role:wbe'\. Did you mean web\?"):
        await catalog.resolve("role:wbe")
    with pytest.raises(EntryNotFound, match=r"Did you mean roles/web\?"):
        await catalog.resolve("roles/webb")
    with pytest.raises(EntryNotFound, match=r"matches 'zzzzzz'\. If the playbook repo changed"):
        await catalog.resolve("zzzzzz")
    with pytest.raises(EntryNotFound, match="no entry given"):
        await catalog.resolve("   ")


async def test_it_finds_nothing_before_the_first_scan(catalog: CatalogService) -> None:
    with pytest.raises(EntryNotFound, match="run `chiffon catalog scan`"):
        await catalog.resolve("hello")
    assert await catalog.list_entries() == []


# --- search, inventories, bad repos ----------------------------------------------------------


async def test_it_searches_name_description_tags_and_service(catalog: CatalogService) -> None:
    await catalog.scan()

    async def names(query: str, kind: EntryKind | None = None) -> list[str]:
        return [e.ref for e in await catalog.list_entries(query, kind)]

    assert await names("PORTAL") == ["playbook:hello", "role:web", "tag:web"]
    assert await names("status page") == ["role:web", "tag:web"]
    assert await names("portal", EntryKind.ROLE) == ["role:web"]
    assert await names("demo") == ["playbook:vars-demo"]
    assert await names("monitor") == ["playbook:site", "role:monitor", "tag:monitor"]  # tags
    assert await names("no such thing") == []
    assert len(await catalog.list_entries()) == SAMPLE_ENTRIES


async def test_it_finds_the_default_inventory(catalog: CatalogService, sample_repo: Path) -> None:
    assert await catalog.inventories() == [
        Inventory("inventory/hosts.yml", "ansible.cfg"),
        Inventory("inventory", "inventory directory"),
    ]
    assert await catalog.default_inventory() == Inventory("inventory/hosts.yml", "ansible.cfg")
    (sample_repo / "ansible.cfg").unlink()
    shutil.rmtree(sample_repo / "inventory")
    assert await catalog.default_inventory() is None


async def test_it_stores_nothing_for_an_empty_repo(
    session_factory: SessionFactory, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = await CatalogService(session_factory, empty).scan()
    assert (result.entries, result.parsed, result.reused, result.removed) == ([], 0, 0, 0)


async def test_it_refuses_a_playbooks_dir_that_does_not_exist(
    session_factory: SessionFactory, tmp_path: Path
) -> None:
    catalog = CatalogService(session_factory, tmp_path / "nope")
    with pytest.raises(CatalogError) as caught:
        await catalog.scan()
    assert str(caught.value) == (
        f"the playbook repo {tmp_path / 'nope'} does not exist. Set CHIFFON_PLAYBOOKS_DIR "
        "(or pass --playbooks) to the folder that holds your playbooks, or create it."
    )
    with pytest.raises(CatalogError, match="does not exist"):
        await catalog.inventories()
    assert await catalog.list_entries() == []


async def test_it_changes_the_fingerprint_only_when_a_scan_changed_something(
    catalog: CatalogService, sample_repo: Path
) -> None:
    await catalog.scan()
    first = await catalog.fingerprint()
    await catalog.scan()
    assert await catalog.fingerprint() == first
    (sample_repo / "hello.yml").write_text((sample_repo / "hello.yml").read_text() + "\n# edit\n")
    await catalog.scan()
    assert await catalog.fingerprint() != first


async def test_it_rescans_an_unchanged_repo_without_reading_it_yet_sees_every_change(
    session_factory: SessionFactory, sample_repo: Path
) -> None:
    catalog = CatalogService(session_factory, sample_repo, settle_s=0.2)
    await asyncio.sleep(0.3)  # the copied files settle
    first = await catalog.scan()
    unchanged = await catalog.scan()
    assert (unchanged.files_read, unchanged.parsed, unchanged.removed) == (0, 0, 0)
    assert unchanged.entries == first.entries == await catalog.list_entries()

    tasks = sample_repo / "roles/web/tasks/main.yml"
    tasks.write_text(tasks.read_text().replace("Describe the", "Describe our"))  # same size
    (sample_repo / "roles/common").rename(sample_repo / "roles/basics")
    changed = await catalog.scan()
    assert changed.entries == await catalog.list_entries()
    roles = {e.name: e for e in changed.entries if e.kind is EntryKind.ROLE}
    assert set(roles) == {"basics", "monitor", "web"}
    assert roles["web"].task_names[0] == "Describe our status page"
    assert changed.removed == 1 and changed.files_read < first.files_read
