"""Generated drafts: which template a clause gets, the names and values taken from it, and
request text that cannot escape into YAML or Ansible templating."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chiffon.planner import PlanStep, StepStatus, draft_for
from chiffon.planner._drafts import service_name


def step(clause: str, target: str | None = None) -> PlanStep:
    return PlanStep(clause, StepStatus.NO_MATCH, None, 0.0, (), {}, (), target)


@pytest.mark.parametrize(
    ("clause", "service"),
    [
        ("deploy uptime kuma on port 3001", "uptime-kuma"),
        ("install the htop package", "htop"),
        ("run vaultwarden as a docker container", "vaultwarden"),
        ("set up healthchecks.io", "healthchecks"),
        ("please do it", "new-service"),
        ("deploy 7zip", "svc-7zip"),
    ],
)
def test_it_names_the_service_from_the_clause(clause: str, service: str) -> None:
    assert service_name(clause) == service


@pytest.mark.parametrize(
    ("clause", "template"),
    [
        ("deploy uptime kuma on port 3001", "container"),
        ("run jellyfin in a container", "container"),
        ("install htop", "package"),
        ("remove the nginx package", "package"),
        ("rotate the backup keys", "skeleton"),
    ],
)
def test_it_chooses_the_template_from_what_the_clause_asks(clause: str, template: str) -> None:
    assert draft_for(step(clause)).template == template


def test_a_container_draft_carries_the_port_target_and_header() -> None:
    draft = draft_for(step("deploy uptime kuma on port 3001", target="docker"))
    play = yaml.safe_load(draft.text)[0]
    assert play["hosts"] == "docker"
    assert play["vars"]["uptime_kuma_port"] == 3001
    assert all(task["name"] for task in play["tasks"] + play["handlers"])
    modules = {key for task in play["tasks"] for key in task if "." in key}
    assert modules <= {
        "ansible.builtin.file",
        "ansible.builtin.copy",
        "ansible.builtin.command",
        "ansible.builtin.wait_for",
    }
    assert "{{ uptime_kuma_dir }}" in draft.text  # Ansible's own expressions are left alone
    assert draft.text.splitlines()[1:5] == [
        "# chiffon:",
        "#   service: uptime-kuma",
        '#   description: "Generated for: deploy uptime kuma on port 3001"',
        "#   generated: true",
    ]
    assert draft.path == "uptime-kuma.yml" and draft.service == "uptime-kuma"


def test_a_removal_draft_makes_the_package_absent() -> None:
    play = yaml.safe_load(draft_for(step("uninstall the nginx package")).text)[0]
    assert play["vars"]["nginx_state"] == "absent"
    assert play["vars"]["nginx_enabled"] is False


def test_request_text_cannot_inject_yaml_or_templates() -> None:
    clause = "install foo\"\n- hosts: all\n  tasks: {{ lookup('pipe', 'id') }} # x"
    draft = draft_for(step(clause))
    assert "{{ lookup" not in draft.text and "{{" not in draft.text.split("tasks:")[0]
    plays = yaml.safe_load(draft.text)
    assert len(plays) == 1  # no play smuggled in
    assert "{{" not in str(plays[0]["name"]) and "\n" not in str(plays[0]["name"])
    header = next(line for line in draft.text.splitlines() if "description" in line)
    assert "{" not in header and "#" not in header.split("description:")[1]


def test_it_picks_a_path_no_file_has(tmp_path: Path) -> None:
    (tmp_path / "htop.yml").write_text("---\n")
    assert draft_for(step("install htop"), tmp_path).path == "htop-generated.yml"
    (tmp_path / "playbooks").mkdir()
    assert draft_for(step("install htop"), tmp_path).path == "playbooks/htop.yml"
