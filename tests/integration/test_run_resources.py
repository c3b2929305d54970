"""Resources used by a run's ansible process tree: measured on real processes and real runs.

The meter is checked on plain child processes first (known CPU, memory and sleep), then on a
real playbook through the app on both databases: stored on the run, in ``GET /api/runs/{id}``,
on the run page and in the audit record.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from chiffon.app import create_app
from chiffon.audit import record_path
from chiffon.audit.repo import AuditRepo
from chiffon.executor._usage import UsageMeter
from chiffon.executor.runner import RUN_MARKER
from chiffon.settings import Settings
from tests._auth import set_up

MiB = 2**20

# Holds MB MiB of touched memory, burns CPU_S of CPU time, then sleeps SLEEP_S.
_WORKER = """
import sys, time
mb, cpu_s, sleep_s = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
block = bytearray(mb * 2**20)
block[::4096] = b"x" * len(block[::4096])
start = time.process_time()
while time.process_time() - start < cpu_s:
    pass
time.sleep(sleep_s)
"""


def _worker(marker: str, mb: int, cpu_s: float, sleep_s: float) -> subprocess.Popen[bytes]:
    env = {**os.environ, RUN_MARKER: marker}
    return subprocess.Popen(
        [sys.executable, "-c", _WORKER, str(mb), str(cpu_s), str(sleep_s)], env=env
    )


def test_it_measures_a_child_trees_cpu_memory_and_wall_time() -> None:
    marker = uuid.uuid4().hex
    with UsageMeter(RUN_MARKER, marker) as meter:
        _worker(marker, mb=120, cpu_s=0.6, sleep_s=0.8).wait()

    used = meter.usage
    assert used is not None
    assert 0.6 <= used.cpu_s < 3  # alone: the exact figure from RUSAGE_CHILDREN
    assert used.peak_rss_bytes is not None and used.peak_rss_bytes >= 120 * MiB
    assert used.wall_s >= used.cpu_s + 0.7  # it slept 0.8 s


@pytest.mark.slow
def test_it_keeps_two_runs_at_once_apart() -> None:
    busy_marker, idle_marker = uuid.uuid4().hex, uuid.uuid4().hex
    with UsageMeter(RUN_MARKER, busy_marker) as busy, UsageMeter(RUN_MARKER, idle_marker) as idle:
        # Sampled, as RUSAGE_CHILDREN mixes the two: the busy one burns before it sleeps, so
        # the samples see its CPU; the idle one only sleeps after starting Python.
        busy_child = _worker(busy_marker, mb=150, cpu_s=0.8, sleep_s=2.0)
        idle_child = _worker(idle_marker, mb=1, cpu_s=0, sleep_s=2.0)
        busy_child.wait()
        idle_child.wait()

    assert busy.usage is not None and idle.usage is not None
    assert busy.usage.cpu_s >= 0.8
    assert idle.usage.cpu_s < 0.5
    assert busy.usage.peak_rss_bytes is not None and busy.usage.peak_rss_bytes >= 150 * MiB
    assert idle.usage.peak_rss_bytes is not None and idle.usage.peak_rss_bytes < 100 * MiB


def test_it_measures_nothing_when_no_process_carries_the_marker() -> None:
    with UsageMeter(RUN_MARKER, uuid.uuid4().hex) as meter:
        time.sleep(0.5)

    assert meter.usage is not None
    assert meter.usage.cpu_s == 0
    assert meter.usage.peak_rss_bytes is None


_PLAYBOOK = """\
- name: Use memory, CPU and time
  hosts: all
  gather_facts: false
  tasks:
    - name: Hold 150 MiB while burning 0.5 s of CPU
      ansible.builtin.command:
        argv: ["{{ ansible_playbook_python }}", "{{ playbook_dir }}/worker.py", "150", "0.5", "1"]
      changed_when: false
    - name: Sleep
      ansible.builtin.command: sleep 2
      changed_when: false
"""


@pytest.fixture
def client(settings: Settings, sample_repo: Path) -> Iterator[TestClient[Litestar]]:
    (sample_repo / "resources.yml").write_text(_PLAYBOOK)
    (sample_repo / "worker.py").write_text(_WORKER)
    with TestClient(create_app(settings)) as client:
        set_up(client)
        yield client


def _finished(client: TestClient[Litestar], run_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run: dict[str, Any] = client.get(f"/api/runs/{run_id}").json()
        if run["status"] not in ("queued", "running") and run["audit_commit"]:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish")


@pytest.mark.slow
def test_it_records_what_a_real_run_used_on_the_run_page_api_and_audit(
    client: TestClient[Litestar], settings: Settings
) -> None:
    started = client.post("/api/runs", json={"entry": "resources.yml"})
    assert started.status_code == 201, started.text
    run = _finished(client, started.json()["id"])

    assert run["status"] == "succeeded"
    used = run["resources"]
    assert used["cpu_s"] >= 0.5  # the worker's burn, plus ansible's own
    assert used["peak_rss_bytes"] >= 150 * MiB
    assert used["wall_s"] >= 3.0  # 1 s held, 2 s asleep
    assert used["wall_s"] >= used["cpu_s"]
    assert used["wall_s"] <= run["duration_s"] + 0.5  # within the run's own start and end

    page = client.get(f"/runs/{run['id']}")
    assert "Resources used" in page.text
    assert f"{used['peak_rss_bytes'] / MiB:.1f} MiB peak" in page.text

    committed = AuditRepo(settings.audit_dir).read_file(run["audit_commit"], record_path(run["id"]))
    assert committed is not None
    assert json.loads(committed)["resources"] == used
    assert client.get("/api/audit/verify").json()["ok"] is True
