"""Chiffon's own checks and the YAML edits of their fixes (comments and layout kept)."""

from __future__ import annotations

from pathlib import Path

from chiffon.analyzer import yamledit
from chiffon.analyzer._analysis import check_and_fix, merge, row_values
from chiffon.analyzer._checks import SourceFile, check, chiffon_fix, entry_files
from chiffon.analyzer.lint import LintFinding
from tests._analyzer import BROKEN, SLOPPY


def _rules(text: str) -> dict[str, int | None]:
    return {f.rule: f.line for f in check([SourceFile("play.yml", "playbook", text)])}


def test_it_finds_latest_commands_without_changed_when_and_missing_handlers() -> None:
    assert _rules(SLOPPY) == {
        "chiffon-package-latest": 6,
        "chiffon-missing-handler": 11,
        "chiffon-command-changed": 11,
    }


def test_it_accepts_a_handler_by_name_or_listen_and_guarded_commands() -> None:
    text = """- name: Fine
  hosts: all
  tasks:
    - name: Make it
      ansible.builtin.command: make
      args:
        creates: /tmp/built
      notify: [Restart, reload web]
    - name: Unnamed no more
      ansible.builtin.shell: echo hi
      changed_when: false
  handlers:
    - name: Restart
      ansible.builtin.debug: {msg: restart}
    - name: Reload
      listen: reload web
      ansible.builtin.debug: {msg: reload}
"""
    assert _rules(text) == {}


def test_it_finds_a_task_without_a_name_but_not_a_handler_without_one() -> None:
    text = """- name: Terse
  hosts: all
  tasks:
    - ansible.builtin.debug:
        msg: who am I
    - name: Named
      ansible.builtin.debug:
        msg: fine
  handlers:
    - ansible.builtin.debug:
        msg: handlers are found by listen
      listen: poke
"""
    findings = check([SourceFile("play.yml", "playbook", text)])

    assert [(f.rule, f.line, f.severity, f.fixable) for f in findings] == [
        ("chiffon-unnamed-task", 4, "minor", False)
    ]


def test_it_reports_a_playbook_that_does_not_parse_as_a_finding() -> None:
    findings = check([SourceFile("broken.yml", "playbook", BROKEN)])

    assert [(f.rule, f.line, f.severity) for f in findings] == [("chiffon-syntax", 7, "blocker")]


def test_its_fixes_keep_comments_and_layout() -> None:
    findings = {f.rule: f for f in check([SourceFile("play.yml", "playbook", SLOPPY)])}
    assert findings["chiffon-package-latest"].fixable
    assert not findings["chiffon-missing-handler"].fixable

    present = chiffon_fix(SLOPPY, "play.yml", "chiffon-package-latest", 6)
    # ruamel re-spaces the edited line's comment; every other line is exactly as it was.
    assert present == SLOPPY.replace("state: latest  #", "state: present #")
    changed = chiffon_fix(SLOPPY, "play.yml", "no-changed-when", 11)
    assert changed == SLOPPY.replace(
        "command: uptime\n", "command: uptime\n      changed_when: false\n"
    )


def test_it_reads_tasks_of_blocks_and_role_files(tmp_path: Path) -> None:
    (tmp_path / "roles/web/tasks").mkdir(parents=True)
    (tmp_path / "roles/web/tasks/main.yml").write_text(
        "- block:\n    - name: In a block\n      ansible.builtin.shell: ls\n"
    )
    (tmp_path / "site.yml").write_text("- name: Site\n  hosts: all\n  roles:\n    - web\n")

    files = entry_files(tmp_path, "playbook", "site.yml", None)
    assert [f.path for f in files] == ["site.yml", "roles/web/tasks/main.yml"]
    assert [(f.rule, f.file, f.line) for f in check(files)] == [
        ("chiffon-command-changed", "roles/web/tasks/main.yml", 2)
    ]
    shape = yamledit.read(files[1].text, "tasks")
    assert [t.name for t in shape.tasks] == ["In a block"]


def test_it_shows_a_finding_both_make_once_with_chiffons_fix() -> None:
    own = check([SourceFile("play.yml", "playbook", SLOPPY)])
    lint = (LintFinding("package-latest", "Do not use latest.", "", "play.yml", 6, "major"),)

    rows = merge(lint, own)
    assert chiffon_fix(SLOPPY, "play.yml", "chiffon-missing-handler", 11) is None
    assert chiffon_fix(SLOPPY, "play.yml", "package-latest", 3) is None  # no task starts there
    assert [(r.source, r.rule, r.fix_by) for r in rows] == [
        ("ansible-lint", "package-latest", "chiffon"),
        ("chiffon", "chiffon-missing-handler", None),
        ("chiffon", "chiffon-command-changed", "chiffon"),
    ]


def test_it_makes_the_first_fixes_while_the_linter_runs_and_the_rows_take_them(
    tmp_path: Path,
) -> None:
    files = [SourceFile("play.yml", "playbook", SLOPPY)]
    own, fixes = check_and_fix(files)
    lint = (LintFinding("package-latest", "Do not use latest.", "", "play.yml", 6, "major"),)
    # A fix made ahead is the one used (here a marker, to tell it from one made afresh).
    fixes = {key: f"ahead {key[1]}" for key in fixes}

    values = row_values(merge(lint, own), {"play.yml": SLOPPY}, tmp_path, fixes)

    assert [(v["rule"], v["fix_text"]) for v in values] == [
        ("package-latest", "ahead 6"),  # the ansible-lint finding takes Chiffon's fix
        ("chiffon-missing-handler", None),
        ("chiffon-command-changed", "ahead 11"),
    ]
    fresh = row_values(merge(lint, own), {"play.yml": SLOPPY}, tmp_path)
    assert fresh[0]["fix_text"] == chiffon_fix(SLOPPY, "play.yml", "package-latest", 6)
    assert check_and_fix(files)[1] == {
        ("play.yml", 6, ("argument", "state", "present")): fresh[0]["fix_text"],
        ("play.yml", 11, ("key", "changed_when", False)): fresh[2]["fix_text"],
    }
