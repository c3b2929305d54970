"""Discovery on real files: the sample repo and small trees written into tmp_path."""

from __future__ import annotations

import hashlib
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from chiffon.catalog import CatalogError, Entry, EntryKind, Inventory
from chiffon.catalog._discover import discover, find_sources, rebuild
from chiffon.catalog._yaml import VAULT_PLACEHOLDER

SAMPLE_REPO = Path(__file__).resolve().parent.parent / "sample_repo"


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def entries_of(root: Path) -> dict[tuple[str, str], Entry]:
    return {(str(entry.kind), entry.name): entry for entry in discover(root).entries}


def one(root: Path, kind: str, name: str) -> Entry:
    return entries_of(root)[(kind, name)]


PLAY = """
- name: A play
  hosts: all
  tasks:
    - name: Say hi
      ansible.builtin.debug:
        msg: hi
"""


# --- the sample repo -------------------------------------------------------------------------


def test_it_finds_every_playbook_role_and_tag_of_the_sample_repo() -> None:
    found = sorted(entries_of(SAMPLE_REPO))
    assert found == [
        ("playbook", "broken"),
        ("playbook", "fail"),
        ("playbook", "hello"),
        ("playbook", "site"),
        ("playbook", "slow"),
        ("playbook", "vars-demo"),
        ("role", "common"),
        ("role", "monitor"),
        ("role", "web"),
        ("tag", "base"),
        ("tag", "monitor"),
        ("tag", "web"),
    ]


def test_it_reads_the_sample_playbooks_header_hosts_tasks_and_vars() -> None:
    entries = entries_of(SAMPLE_REPO)
    hello = entries[("playbook", "hello")]
    assert hello.path == "hello.yml"
    assert hello.service == "hello"
    assert hello.description.startswith("Say hello from every homelab host")
    assert hello.header["resources"] == {"min_cpu_cores": 1}
    assert hello.hosts == "homelab"
    assert hello.task_names == ("Greet", "Show the portals", "Run a harmless command")
    assert (
        hello.content_hash == hashlib.sha256((SAMPLE_REPO / "hello.yml").read_bytes()).hexdigest()
    )
    demo = entries[("playbook", "vars-demo")]
    assert demo.header["requires"] == ["hello"]
    assert demo.header["rollback"] == "hello.yml"
    assert [(v.name, v.default, v.source) for v in demo.variables] == [
        ("app_name", "demo", "play vars"),
        ("app_port", 8080, "play vars"),
        ("features", ["metrics", "health"], "play vars"),
        ("admin_email", "admin@example.com", "vars_prompt"),
        ("release", "1.0", "vars_prompt"),
    ]
    assert entries[("playbook", "fail")].description == "Fail on purpose"  # the play's name


def test_it_lists_the_sample_broken_playbook_as_invalid_with_line_and_column() -> None:
    broken = one(SAMPLE_REPO, "playbook", "broken")
    assert broken.valid is False
    assert broken.error is not None
    assert broken.error.startswith("broken.yml: line 9, column 6:")


def test_it_finds_the_sample_inventories_with_ansible_cfg_first() -> None:
    assert discover(SAMPLE_REPO).inventories == [
        Inventory("inventory/hosts.yml", "ansible.cfg"),
        Inventory("inventory", "inventory directory"),
    ]


# --- which files are playbooks ---------------------------------------------------------------


def test_it_skips_files_that_are_not_playbooks(tmp_path: Path) -> None:
    write(tmp_path, "deploy.yml", PLAY)
    write(tmp_path, "playbooks/backup.yaml", PLAY)
    write(tmp_path, "requirements.yml", "- src: geerlingguy.docker\n  hosts: x\n")
    write(tmp_path, "vars.yml", "port: 80\n")
    write(tmp_path, "tasks-only.yml", "- name: a task\n  ansible.builtin.debug: {msg: x}\n")
    write(tmp_path, "empty.yml", "")
    write(tmp_path, "comments.yml", "# nothing here\n")
    write(tmp_path, "notes.txt", PLAY)
    for folder in ("group_vars", "host_vars", "inventory", "collections", ".git", "roles"):
        write(tmp_path, f"{folder}/play.yml", PLAY)
    write(tmp_path, "playbooks/nested/deeper.yml", PLAY)
    found = discover(tmp_path)
    assert [(e.kind, e.path) for e in found.entries] == [
        (EntryKind.PLAYBOOK, "deploy.yml"),
        (EntryKind.PLAYBOOK, "playbooks/backup.yaml"),
    ]
    assert set(found.not_playbooks) == {"vars.yml", "tasks-only.yml", "empty.yml", "comments.yml"}


def test_it_returns_nothing_for_an_empty_repo(tmp_path: Path) -> None:
    found = discover(tmp_path)
    assert found.entries == []
    assert found.inventories == []


def test_it_refuses_a_playbooks_dir_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"does not exist\. Set CHIFFON_PLAYBOOKS_DIR"):
        discover(tmp_path / "missing")
    write(tmp_path, "file.yml", PLAY)
    with pytest.raises(CatalogError, match="is not a directory"):
        discover(tmp_path / "file.yml")


# --- bad input never crashes discovery -------------------------------------------------------


def test_it_keeps_going_past_a_broken_file(tmp_path: Path) -> None:
    write(tmp_path, "good.yml", PLAY)
    write(tmp_path, "bad.yml", "- hosts: all\n  tasks: [\n")
    entries = entries_of(tmp_path)
    assert entries[("playbook", "good")].valid is True
    bad = entries[("playbook", "bad")]
    assert bad.valid is False
    assert bad.error is not None
    assert bad.error.startswith("bad.yml: line 3, column 1:")


def test_it_reports_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "latin.yml").write_bytes(b"- hosts: all\n  name: caf\xe9\n")
    entry = one(tmp_path, "playbook", "latin")
    assert entry.valid is False
    assert entry.error == "latin.yml: not UTF-8 text (byte 0xe9 on line 2)"


def test_it_refuses_to_parse_a_huge_file(tmp_path: Path) -> None:
    (tmp_path / "huge.yml").write_bytes(b"- hosts: all\n" + b"#" * (3 * 1024 * 1024))
    entry = one(tmp_path, "playbook", "huge")
    assert entry.valid is False
    assert "the catalog reads YAML files up to 2 MiB" in (entry.error or "")
    assert entry.content_hash == hashlib.sha256((tmp_path / "huge.yml").read_bytes()).hexdigest()


def test_it_lists_the_problems_of_a_play_list_with_garbage(tmp_path: Path) -> None:
    write(
        tmp_path,
        "junk.yml",
        """
        - hosts: all
          tasks: 5
        - 42
        - name: no hosts here
          roles: web
        - hosts: all
          vars: [1, 2]
          vars_prompt: [{prompt: x}]
          pre_tasks: ["not a task"]
          tags: {a: b}
        """,
    )
    entry = one(tmp_path, "playbook", "junk")
    assert entry.valid is False
    assert entry.error == (
        "play 1 tasks must be a list of tasks, not a number; "
        "play 2 is not a play (a mapping with `hosts`); "
        "play 3 has no `hosts`; play 3 `roles` must be a list; "
        "play 4 `vars` must be a mapping; play 4 vars_prompt item 1 has no `name`; "
        "play 4 pre_tasks item 1 is a string, not a task"
    )


def test_it_survives_deep_nesting_and_alias_bombs(tmp_path: Path) -> None:
    # A million nested brackets used to crash the process inside libyaml's composer.
    for name, depth in (("deep", 101), ("deeper", 1_000_000)):
        nested = "[" * depth + "]" * depth
        write(tmp_path, f"{name}.yml", f"- hosts: all\n  vars:\n    x: {nested}\n")
    write(tmp_path, "fine.yml", "- hosts: all\n  vars:\n    x: " + "[" * 97 + "]" * 97 + "\n")
    bomb = ["- hosts: all", "  vars:", "    a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    bomb += [f"    a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 9)]
    bomb += ["  tasks:", "    - block: &t0 [{name: t, debug: {}}, {name: u, debug: {}}]"]
    bomb += [
        f"    - block: &t{n} [{{block: *t{n - 1}}}, {{block: *t{n - 1}}}]" for n in range(1, 30)
    ]
    write(tmp_path, "bomb.yml", "\n".join(bomb) + "\n")
    entries = entries_of(tmp_path)
    for name in ("deep", "deeper"):
        assert entries[("playbook", name)].error == (
            f"{name}.yml: line 3: nested more than 100 levels deep"
        )
    assert entries[("playbook", "fine")].valid is True
    bombed = entries[("playbook", "bomb")]
    assert bombed.valid is False
    assert "more than 10000 tasks" in (bombed.error or "")
    assert len(repr(bombed.variables)) < 200_000


def test_it_treats_vault_and_unsafe_values_as_opaque_strings(tmp_path: Path) -> None:
    write(
        tmp_path,
        "secret.yml",
        """
        - hosts: all
          vars:
            password: !vault |
              $ANSIBLE_VAULT;1.1;AES256
              6162636465
            template: !unsafe '{{ not_jinja }}'
            custom: !whatever {a: 1}
        """,
    )
    entry = one(tmp_path, "playbook", "secret")
    assert entry.valid is True
    assert {v.name: v.default for v in entry.variables} == {
        "password": VAULT_PLACEHOLDER,
        "template": "{{ not_jinja }}",
        "custom": {"a": 1},
    }


# --- the `# chiffon:` header -----------------------------------------------------------------


def test_it_reads_a_header_after_other_comments_and_stops_at_a_plain_comment(
    tmp_path: Path,
) -> None:
    header = """
    #!/usr/bin/env ansible-playbook
    ---
    # chiffon:
    #   service: kuma
    #   description: Deploy Uptime Kuma  # trailing comment
    #   requires: docker
    #   resources: {min_gpu_vram_mb: 0, min_cpu_cores: 1}
    #
    # Deploys Kuma: this ordinary comment is not part of the header.
    """
    write(tmp_path, "kuma.yml", textwrap.dedent(header) + textwrap.dedent(PLAY))
    entry = one(tmp_path, "playbook", "kuma")
    assert entry.valid is True
    assert entry.service == "kuma"
    assert entry.description == "Deploy Uptime Kuma"
    assert entry.header == {
        "service": "kuma",
        "description": "Deploy Uptime Kuma",
        "requires": ["docker"],
        "resources": {"min_gpu_vram_mb": 0, "min_cpu_cores": 1},
    }


def test_it_ignores_a_chiffon_comment_after_the_yaml_starts(tmp_path: Path) -> None:
    write(tmp_path, "late.yml", PLAY + "# chiffon:\n#   service: nope\n")
    entry = one(tmp_path, "playbook", "late")
    assert entry.header == {}
    assert entry.service is None
    assert entry.description == "A play"


@pytest.mark.parametrize(
    ("header", "error"),
    [
        (
            "# chiffon:\n#   service: [unclosed\n",
            "the `# chiffon:` header: line 3, column 1:",
        ),
        (
            "# chiffon:\n#   requires: 5\n#   service: {a: 1}\n",
            "the `# chiffon:` header (line 1): `service` must be a string; "
            "`requires` must be a list of entry names",
        ),
        ("# chiffon: [a, b]\n", "the `# chiffon:` header (line 1) must be a mapping of keys"),
    ],
)
def test_it_marks_a_playbook_with_a_bad_header_invalid(
    tmp_path: Path, header: str, error: str
) -> None:
    write(tmp_path, "bad-header.yml", header + textwrap.dedent(PLAY))
    entry = one(tmp_path, "playbook", "bad-header")
    assert entry.valid is False
    assert (entry.error or "").startswith(error)
    assert entry.task_names == ("Say hi",)  # the rest of the playbook is still read


# --- tasks, hosts, variables -----------------------------------------------------------------


def test_it_collects_task_names_from_blocks_and_every_task_section(tmp_path: Path) -> None:
    write(
        tmp_path,
        "tasks.yml",
        """
        - hosts: [web, db]
          pre_tasks:
            - name: Before
              ansible.builtin.debug: {msg: x}
          tasks:
            - name: Outer block
              block:
                - name: Inside
                  ansible.builtin.command: "true"
                - ansible.builtin.ping:
              rescue:
                - name: Rescued
                  ansible.builtin.debug: {msg: x}
              always:
                - name: Always
                  ansible.builtin.debug: {msg: x}
                  tags: [cleanup]
            - ansible.builtin.include_tasks: other.yml
            - action: ansible.builtin.shell echo hi
          post_tasks:
            - name: After
              ansible.builtin.debug: {msg: x}
          handlers:
            - name: A handler is not a task
              ansible.builtin.debug: {msg: x}
        - hosts: backup
          tasks: []
        """,
    )
    entry = one(tmp_path, "playbook", "tasks")
    assert entry.task_names == (
        "Before",
        "Inside",
        "ansible.builtin.ping",
        "Rescued",
        "Always",
        "ansible.builtin.shell",
        "After",
    )
    assert entry.hosts == "web,db,backup"
    assert entry.tags == ("cleanup",)


def test_it_reads_role_variables_descriptions_and_tasks(tmp_path: Path) -> None:
    write(tmp_path, "roles/app/tasks/main.yml", "- name: Main task\n  ansible.builtin.debug: {}\n")
    write(
        tmp_path, "roles/app/tasks/extra.yml", "- name: Extra task\n  ansible.builtin.debug: {}\n"
    )
    write(tmp_path, "roles/app/defaults/main.yml", "app_port: 80\napp_when: 2024-01-02\n")
    write(tmp_path, "roles/app/defaults/tuning.yml", "app_workers: 4\n")
    write(tmp_path, "roles/app/vars/main.yml", "app_user: app\n")
    write(tmp_path, "roles/app/meta/main.yml", "galaxy_info:\n  description: Runs  the\n   app\n")
    write(tmp_path, "roles/app/README.md", "# app\n\nNot used: galaxy_info wins.\n")
    write(tmp_path, "roles/readme/tasks/main.yaml", "")
    write(
        tmp_path,
        "roles/readme/README.rst",
        "readme\n======\n\n.. image:: badge.svg\n\nFirst paragraph\nspans lines.\n\nSecond.\n",
    )
    write(
        tmp_path,
        "roles/readme/meta/main.yml",
        "galaxy_info:\n  description: your role description\n",
    )
    write(tmp_path, "roles/bare/tasks/main.yml", "[]\n")
    write(tmp_path, "roles/no-tasks/defaults/main.yml", "x: 1\n")
    entries = entries_of(tmp_path)
    app = entries[("role", "app")]
    assert (app.path, app.role, app.description) == ("roles/app", "app", "Runs the app")
    assert [(v.name, v.default, v.source) for v in app.variables] == [
        ("app_port", 80, "defaults/main.yml"),
        ("app_when", "2024-01-02", "defaults/main.yml"),
        ("app_workers", 4, "defaults/tuning.yml"),
        ("app_user", "app", "vars/main.yml"),
    ]
    assert app.task_names == ("Main task", "Extra task")
    assert entries[("role", "readme")].description == "First paragraph spans lines."
    assert entries[("role", "bare")].description == ""
    assert ("role", "no-tasks") not in entries


def test_it_marks_a_role_with_a_broken_file_invalid(tmp_path: Path) -> None:
    write(tmp_path, "roles/app/tasks/main.yml", "- name: ok\n  ansible.builtin.debug: {}\n")
    write(tmp_path, "roles/app/defaults/main.yml", "a: [1,\n")
    write(tmp_path, "roles/app/vars/main.yml", "- not a mapping\n")
    write(tmp_path, "roles/app/handlers/main.yml", "- name: h\n  debug: {msg: [}\n")
    app = one(tmp_path, "role", "app")
    assert app.valid is False
    errors = (app.error or "").split("; ")
    assert errors[0].startswith("roles/app/defaults/main.yml: line 2, column 1:")
    assert errors[1] == "roles/app/vars/main.yml must be a mapping of variables"
    assert errors[2].startswith("roles/app/handlers/main.yml: line 2")
    assert app.task_names == ("ok",)


# --- site playbooks and tags -----------------------------------------------------------------


def test_it_makes_a_tag_entry_for_each_tag_that_applies_roles(tmp_path: Path) -> None:
    write(tmp_path, "roles/web/tasks/main.yml", "- name: Web task\n  ansible.builtin.debug: {}\n")
    write(tmp_path, "roles/web/defaults/main.yml", "web_port: 80\n")
    write(tmp_path, "roles/web/meta/main.yml", "galaxy_info:\n  description: Serves pages\n")
    write(tmp_path, "roles/db/tasks/main.yml", "- name: Db task\n  ansible.builtin.debug: {}\n")
    write(
        tmp_path,
        "site.yml",
        """
        - hosts: webservers
          vars: {site_name: home}
          tags: frontend
          roles:
            - role: web
              tags: [web, always]
            - roles/db
        - hosts: dbservers
          tasks:
            - ansible.builtin.import_role:
                name: db
              tags: database
            - name: Maybe
              ansible.builtin.include_role:
                name: galaxy.ns.missing
                apply: {tags: [extra]}
              tags: [extra]
        """,
    )
    entries = entries_of(tmp_path)
    assert sorted(name for kind, name in entries if kind == "tag") == [
        "database",
        "extra",
        "frontend",
        "web",
    ]
    frontend = entries[("tag", "frontend")]
    assert (frontend.path, frontend.role, frontend.hosts) == ("site.yml", "web", "webservers")
    assert frontend.description == "Serves pages (site.yml --tags frontend)"
    assert frontend.task_names == ("Web task", "Db task")
    assert [(v.name, v.source) for v in frontend.variables] == [
        ("site_name", "play vars"),
        ("web_port", "roles/web/defaults/main.yml"),
    ]
    assert entries[("tag", "web")].task_names == ("Web task",)
    database = entries[("tag", "database")]
    assert (database.role, database.hosts, database.task_names) == ("db", "dbservers", ("Db task",))
    extra = entries[("tag", "extra")]
    assert extra.valid is True  # the role may come from a collection
    assert extra.description == "role galaxy.ns.missing (not in roles/) (site.yml --tags extra)"
    site = entries[("playbook", "site")]
    assert site.tags == ("frontend", "web", "database", "extra")


def test_it_marks_a_tag_invalid_when_its_role_is_invalid(tmp_path: Path) -> None:
    write(tmp_path, "roles/web/tasks/main.yml", "{not: a list}\n")
    write(tmp_path, "site.yml", "- hosts: all\n  roles: [{role: web, tags: web}]\n")
    tag = one(tmp_path, "tag", "web")
    assert tag.valid is False
    assert tag.error == "role web: roles/web/tasks/main.yml must be a list of tasks, not a mapping"


# --- hashes and reuse ------------------------------------------------------------------------


def test_it_hashes_every_file_of_a_role(tmp_path: Path) -> None:
    write(tmp_path, "roles/web/tasks/main.yml", "[]\n")
    template = write(tmp_path, "roles/web/templates/index.html.j2", "<h1>hi</h1>\n")
    first = find_sources(tmp_path).roles["roles/web"]
    assert find_sources(tmp_path).roles["roles/web"] == first
    template.write_text("<h1>changed</h1>\n")
    second = find_sources(tmp_path).roles["roles/web"]
    assert second != first
    template.rename(template.with_name("other.html.j2"))
    assert find_sources(tmp_path).roles["roles/web"] not in (first, second)


def test_it_reuses_stored_entries_whose_hash_matches(tmp_path: Path) -> None:
    write(tmp_path, "play.yml", PLAY)
    write(tmp_path, "roles/web/tasks/main.yml", "- name: Web task\n  ansible.builtin.debug: {}\n")
    write(tmp_path, "site.yml", "- hosts: all\n  roles: [{role: web, tags: web}]\n")
    stored = [replace(e, description="from the database") for e in discover(tmp_path).entries]
    again = rebuild(tmp_path, find_sources(tmp_path), stored)
    assert {e.description for e in again.entries} == {"from the database"}

    write(tmp_path, "roles/web/tasks/main.yml", "- name: New task\n  ansible.builtin.debug: {}\n")
    changed = {
        (e.kind, e.name): e for e in rebuild(tmp_path, find_sources(tmp_path), stored).entries
    }
    assert changed[(EntryKind.PLAYBOOK, "play")].description == "from the database"
    assert changed[(EntryKind.PLAYBOOK, "site")].description == "from the database"
    assert changed[(EntryKind.ROLE, "web")].task_names == ("New task",)
    assert changed[(EntryKind.TAG, "web")].task_names == ("New task",)  # its role changed


# --- symlinks --------------------------------------------------------------------------------


def test_it_never_follows_a_symlink_out_of_the_repo(tmp_path: Path) -> None:
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    write(outside, "secret.yml", PLAY)
    write(outside, "role/tasks/main.yml", "[]\n")
    secret = write(outside, "secret.txt", "one\n")
    write(repo, "play.yml", PLAY)
    write(repo, "roles/web/tasks/main.yml", "[]\n")
    (repo / "evil.yml").symlink_to(outside / "secret.yml")
    (repo / "alias.yml").symlink_to("play.yml")
    (repo / "roles" / "stolen").symlink_to(outside / "role")
    (repo / "roles" / "web" / "leak.txt").symlink_to(secret)
    (repo / "roles" / "web" / "loop").symlink_to(repo / "roles" / "web")
    (repo / "inventories").mkdir()
    (repo / "inventories" / "prod").symlink_to(outside)

    found = discover(repo)
    assert [(e.kind, e.path) for e in found.entries] == [
        (EntryKind.PLAYBOOK, "alias.yml"),
        (EntryKind.PLAYBOOK, "play.yml"),
        (EntryKind.ROLE, "roles/web"),
    ]
    assert found.inventories == []
    before = find_sources(repo).roles["roles/web"]
    secret.write_text("two\n")
    assert find_sources(repo).roles["roles/web"] == before


# --- inventories -----------------------------------------------------------------------------


def test_it_finds_inventories_in_every_usual_place(tmp_path: Path) -> None:
    write(tmp_path, "ansible.cfg", "[defaults]\ninventory = ./hosts.ini, /etc/ansible/hosts ; x\n")
    write(tmp_path, "hosts.ini", "localhost\n")
    write(tmp_path, "hosts", "localhost\n")
    write(tmp_path, "inventories/prod/hosts.yml", "all: {}\n")
    write(tmp_path, "inventories/staging/hosts.yml", "all: {}\n")
    assert discover(tmp_path).inventories == [
        Inventory("hosts.ini", "ansible.cfg"),
        Inventory("inventories/prod", "inventories directory"),
        Inventory("inventories/staging", "inventories directory"),
        Inventory("hosts", "hosts file"),
    ]


def test_it_ignores_an_ansible_cfg_it_cannot_read(tmp_path: Path) -> None:
    write(tmp_path, "ansible.cfg", "inventory = no section header\n")
    write(tmp_path, "inventory/hosts.yml", "all: {}\n")
    assert discover(tmp_path).inventories == [Inventory("inventory", "inventory directory")]


def test_it_reads_an_unquoted_description_with_a_colon_in_the_header() -> None:
    from chiffon.catalog._header import parse_header

    header, error = parse_header(
        "# chiffon:\n#   service: ssh\n#   description: Harden sshd: keys only, no root\n"
        "#   requires: [base]\n- hosts: all\n"
    )

    assert error is None
    assert header["description"] == "Harden sshd: keys only, no root"
    assert header["requires"] == ["base"]


def test_it_still_reports_a_header_that_is_broken_beyond_free_text() -> None:
    from chiffon.catalog._header import parse_header

    header, error = parse_header("# chiffon:\n#   requires: [docker\n- hosts: all\n")

    assert header == {}
    assert error is not None and "header" in error


def test_it_notes_which_entries_become_root(tmp_path: Path) -> None:
    write(tmp_path, "root.yml", "- hosts: all\n  become: true\n  tasks:\n    - debug: {}\n")
    write(
        tmp_path,
        "task.yml",
        "- hosts: all\n  tasks:\n    - block:\n        - command: id\n      become: yes\n",
    )
    write(tmp_path, "plain.yml", "- hosts: all\n  tasks:\n    - debug: {}\n")
    write(tmp_path, "roles/pkg/tasks/main.yml", "- package: {name: x}\n  become: true\n")
    write(tmp_path, "roles/quiet/tasks/main.yml", "- debug: {}\n")
    write(tmp_path, "site.yml", "- hosts: all\n  roles: [{role: quiet, tags: [q]}]\n")
    entries = entries_of(tmp_path)
    became = {name for (_, name), entry in entries.items() if entry.become}
    assert became == {"root", "task", "pkg"}
