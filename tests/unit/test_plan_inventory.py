"""What the planner reads from an inventory: names to recognise as targets, and group_vars."""

from __future__ import annotations

from pathlib import Path

from chiffon.planner._inventory import read_facts


def test_it_reads_group_and_host_names_from_an_ini_inventory(tmp_path: Path) -> None:
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "hosts.ini").write_text(
        "# homelab\n[media]\nnas ansible_host=192.0.2.10\n\n[gpu:children]\nmedia\n"
    )
    assert read_facts(tmp_path).names == {"media", "nas", "gpu"}


def test_it_reads_all_group_vars_of_an_inventories_folder(tmp_path: Path) -> None:
    group_vars = tmp_path / "inventories" / "prod" / "group_vars"
    group_vars.mkdir(parents=True)
    (group_vars / "all.yml").write_text("---\nportals:\n  - name: a\n")
    assert read_facts(tmp_path).group_vars == {"portals": [{"name": "a"}]}


def test_it_keeps_group_vars_beside_a_vaulted_value(tmp_path: Path) -> None:
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "all.yml").write_text(
        "secret: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\nportals: [a]\n"
    )
    assert read_facts(tmp_path).group_vars == {"secret": None, "portals": ["a"]}


def test_it_skips_files_that_do_not_parse(tmp_path: Path) -> None:
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "all.yml").write_text("portals: [unclosed\n")
    (tmp_path / "hosts.yml").write_text("all: [unclosed\n")
    facts = read_facts(tmp_path)
    assert (facts.names, facts.group_vars) == (frozenset(), {})


def test_it_counts_the_hosts_a_pattern_names_in_yaml_and_ini(tmp_path: Path) -> None:
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "hosts.yml").write_text(
        "all:\n  children:\n    web:\n      hosts: {w1: {}, w2: {}}\n"
        "    db:\n      hosts: {d1: {}}\n      children:\n        replicas:\n"
        "          hosts: {r1: {}, r2: {}}\n"
    )
    (tmp_path / "inventory" / "hosts.ini").write_text(
        "[gpu]\ng1\ng2\n[lab:children]\ngpu\n[lab:vars]\nx=1\n"
    )
    facts = read_facts(tmp_path)
    assert facts.hosts_of("web") == 2
    assert facts.hosts_of("db") == 3  # its own host and its child group's
    assert facts.hosts_of("web:db") == 5 and facts.hosts_of("web,w1") == 2
    assert facts.hosts_of("lab") == 2 and facts.hosts_of("all") == 7
    assert facts.hosts_of("nowhere") is None


def test_it_expands_a_hosts_pattern_into_the_hosts_it_names(tmp_path: Path) -> None:
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "hosts.ini").write_text(
        "[gpu]\ngpu1\ngpu2\n\n[rack1]\ngpu1\nnas\n\n[storage]\nnas\n"
    )
    facts = read_facts(tmp_path)

    assert facts.hosts_in("gpu") == {"gpu1", "gpu2"}
    assert facts.hosts_in("gpu:storage") == facts.hosts_in("all") == {"gpu1", "gpu2", "nas"}
    assert facts.hosts_in("gpu:&rack1") == {"gpu1"}
    assert facts.hosts_in("gpu:!rack1") == {"gpu2"}
    assert facts.hosts_in("gpu2,nas") == {"gpu2", "nas"}
    assert facts.hosts_in("gpu:ghost") is None  # a name the inventory does not list
    assert facts.hosts_in("gpu*") is None  # a wildcard: not expanded
