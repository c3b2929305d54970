"""A playbook repo with a GPU group of two hosts (both run locally) and an entry that needs a
GPU, for placement tests; and heartbeats of the agents that report for those hosts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests._router import gpu, heartbeat_body

INVENTORY = """\
all:
  children:
    homelab:
      hosts:
        localhost:
          ansible_connection: local
          ansible_python_interpreter: "{{ ansible_playbook_python }}"
    local:
      hosts:
        localhost:
    gpu:
      hosts:
        localhost:
        gpubox:
          ansible_connection: local
          ansible_python_interpreter: "{{ ansible_playbook_python }}"
    storage:
      hosts:
        nas:
          ansible_connection: local
"""

TRAIN = """\
# chiffon:
#   service: trainer
#   description: Train the image classifier model on a GPU host
#   resources: {min_gpu_vram_mb: 8000, labels: [gpu]}
---
- name: Train the classifier
  hosts: gpu
  gather_facts: false
  tasks:
    - name: Train
      ansible.builtin.debug:
        msg: "training on {{ inventory_hostname }}"
"""

REQUEST = "train the image classifier"


def add_gpu_hosts(repo: Path) -> None:
    """Give ``repo`` (a copy of tests/sample_repo) the gpu and storage groups and train.yml."""
    (repo / "inventory" / "hosts.yml").write_text(INVENTORY)
    (repo / "train.yml").write_text(TRAIN)


def gpu_beat(vram_free_mb: int) -> dict[str, Any]:
    """A heartbeat of a machine with one 24 GB GPU with ``vram_free_mb`` free."""
    return heartbeat_body(gpus=[gpu(0, 24_000, vram_free_mb)])
