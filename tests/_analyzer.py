"""Playbooks that fail, or that ansible-lint dislikes, for the analyzer's tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

HEAD = "- name: {name}\n  hosts: homelab\n  gather_facts: false\n  tasks:\n"

FAILING = {
    "undefined.yml": HEAD.format(name="Undefined")
    + """    - name: Use a variable nobody set
      ansible.builtin.debug:
        msg: "Hello {{ site_owner }}"
""",
    "missing-module.yml": HEAD.format(name="Missing module")
    + """    - name: Use a collection that is not installed
      community.nothere.frobnicate:
        level: 3
""",
    "nonzero.yml": HEAD.format(name="Nonzero")
    + """    - name: Run a command that fails
      ansible.builtin.command: ls /definitely/not/here
      changed_when: false
""",
    "handler.yml": HEAD.format(name="Handler")
    + """    - name: Change something
      ansible.builtin.command: "true"
      changed_when: true
      notify: Restart the thing
""",
    "template.yml": HEAD.format(name="Template")
    + """    - name: Render a broken expression
      ansible.builtin.debug:
        msg: "{{ 1 + }}"
""",
    "timeout.yml": HEAD.format(name="Timeout")
    + """    - name: Wait too long
      ansible.builtin.command: sleep 10
      changed_when: false
      timeout: 1
""",
    "unreachable.yml": """- name: Unreachable
  hosts: faraway
  gather_facts: false
  tasks:
    - name: Ping it
      ansible.builtin.ping:
""",
}

# The sample repo's fail.yml (a plan's "fail on purpose" step), failing on a command whose
# missing changed_when Chiffon can fix; the failing task is at line 9.
FAIL_ON_PURPOSE = """- name: Fail on purpose
  hosts: homelab
  gather_facts: false
  tasks:
    - name: Before the failure
      ansible.builtin.debug:
        msg: This task succeeds

    - name: Fail here
      ansible.builtin.command: ls /definitely/not/here
"""

# An address reserved for documentation (RFC 5737): nothing answers there.
FAR_INVENTORY = """all:
  hosts:
    faraway:
      ansible_host: 192.0.2.1
      ansible_connection: ssh
      ansible_ssh_common_args: "-o ConnectTimeout=2 -o StrictHostKeyChecking=no"
      ansible_timeout: 2
"""

# ansible-lint: package-latest, fqcn, no-changed-when; Chiffon: the same, and a missing handler.
SLOPPY = """# A person's comment that a fix must keep.
- name: Sloppy
  hosts: homelab
  gather_facts: false
  tasks:
    - name: Install nginx
      apt:
        name: nginx
        state: latest  # keep this comment too

    - name: Read the uptime
      ansible.builtin.command: uptime
      notify: Restart nowhere
"""

BROKEN = """- name: Broken
  hosts: homelab
  tasks:
    - name: Unclosed
      ansible.builtin.debug:
        msg: [unclosed
"""


def write_playbooks(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


def init_git(repo: Path) -> None:
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=T", "-c", "user.email=t@example.org", "commit", "-qm", "start")
