"""What tests that run real playbooks share: a playbook that leaves a mark, waiting for a task."""

from __future__ import annotations

import asyncio
import time

import pytest

from chiffon.app import Services

# Appends a line to ``mark_file``: "nothing ran" and "ran exactly once" are read from it.
MARK = """\
- name: Leave a mark
  hosts: homelab
  gather_facts: false
  tasks:
    - name: Append a line
      ansible.builtin.shell: "echo ran >> {{ mark_file }}"
      changed_when: true
"""


async def wait_for_task_start(
    services: Services, run_id: int, task: str, timeout_s: float = 60
) -> None:
    """Return once the run has started ``task`` on a host; fail the test after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        events = await services.executor.list_events(run_id)
        if any(e.type == "runner_on_start" and e.task == task for e in events):
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"the task {task!r} never started")
