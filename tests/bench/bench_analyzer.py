"""Analyzer: lint of a 200-line playbook (cold, then cached by content hash) and the diagnosis
of a failed run of 10,000 events, on SQLite with the real ansible-lint.

The cold figure is almost all ansible-lint's own: its imports, the four ansible CLIs it
starts (``ansible-config dump``, ``ansible --version``, ``ansible-playbook --syntax-check``,
``ansible-doc -l -t become`` for the schema rule) and its task rules; ``chiffon_part_s`` is
what Chiffon adds (its checks, storing the suggestions)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from chiffon.app import bootstrap
from chiffon.db import upgrade_database, utcnow
from chiffon.executor import RunStatus
from chiffon.executor.models import Run, RunEvent
from chiffon.settings import Settings

from ._util import median

EVENTS = 10_000
COLD_RUNS = 3  # the cold figure is their median: one lint under a passing load is noise
TARGETS = {"lint_cold_s": 5.0, "lint_cached_ms": 50.0, "diagnosis_ms": 200.0}


def _playbook() -> str:
    """200 lines: a play header and 49 four-line tasks, with findings for both checkers."""
    out = ["- name: Bench", "  hosts: homelab", "  gather_facts: false", "  tasks:"]
    for n in range(1, 50):
        out += [
            f"    - name: Task {n}",
            "      ansible.builtin.command: echo {{ item }}" if n % 3 else "      shell: uptime",
            "      loop: [a, b]",
            f"      tags: [t{n}]",
        ]
    assert len(out) == 200
    return "\n".join(out) + "\n"


async def _failed_run(services: Any, path: str) -> int:
    now = utcnow()
    run = Run(
        correlation_id="bench", entry_kind="playbook", entry_name="bench", entry_path=path,
        entry_role=None, entry_hash="x", inventory="inventory/hosts.yml",
        status=RunStatus.FAILED, rc=2, host_stats={}, started_at=now, finished_at=now,
        event_count=EVENTS, extra_vars={},
    )  # fmt: skip
    async with services.sessions() as session, session.begin():
        session.add(run)
    rows = []
    for seq in range(1, EVENTS + 1):
        last = seq == EVENTS
        rows.append(
            {
                "run_id": run.id,
                "seq": seq,
                "type": "runner_on_failed" if last else "runner_on_ok",
                "host": f"host{seq % 50}",
                "task": f"Task {seq // 50}",
                "stdout": f"ok: [host{seq % 50}]",
                "data": {
                    "task_action": "ansible.builtin.command",
                    "task_path": f"/repo/{path}:{seq // 50}",
                    **({"result": {"msg": "non-zero return code", "rc": 1}} if last else {}),
                },
                "created_at": dt.datetime.now(dt.UTC),
            }
        )
    async with services.sessions() as session, session.begin():
        await session.execute(insert(RunEvent), rows)
    return int(run.id)


async def _measure(tmp: Path) -> dict[str, Any]:
    repo = tmp / "repo"
    repo.mkdir()
    (repo / "bench.yml").write_text(_playbook())
    settings = Settings(data_dir=tmp / "data", playbooks_dir=repo)
    upgrade_database(settings.effective_database_url)
    services = bootstrap(settings)
    await services.start()
    try:
        load_before = os.getloadavg()[0]
        cold_s, lint_s, lint_cpu_s = [], [], []
        for attempt in range(COLD_RUNS):  # the first lint of this content, then linted again
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            cold = await services.analyzer.analyze("bench.yml", force=attempt > 0)
            cold_s.append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            assert not cold.cached
            lint_s.append(cold.seconds)  # the ansible-lint process's wall time
            # The linter's own CPU time (its process and the ansible CLIs it starts): what
            # the cold figure is on an idle machine.
            lint_cpu_s.append(
                (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
            )
        cached_ms = []
        for _ in range(20):
            started = time.perf_counter()
            again = await services.analyzer.analyze("bench.yml")
            cached_ms.append((time.perf_counter() - started) * 1000)
            assert again.cached
        run_id = await _failed_run(services, "bench.yml")
        diagnosis_ms = []
        for _ in range(5):
            started = time.perf_counter()
            diagnosed = await services.analyzer.diagnose(run_id)
            diagnosis_ms.append((time.perf_counter() - started) * 1000)
        assert diagnosed.diagnosis.failure_class == "nonzero"
    finally:
        await services.stop()
    figures = {
        "lint_cold_s": round(median(cold_s), 2),
        "lint_cached_ms": round(median(cached_ms), 1),
        "diagnosis_ms": round(median(diagnosis_ms), 1),
    }
    return {
        **figures,
        "lint_cold_runs_s": [round(x, 2) for x in cold_s],
        "lint_process_s": round(median(lint_s), 2),
        "lint_cold_cpu_s": round(median(lint_cpu_s), 2),
        "chiffon_part_s": round(median(c - w for c, w in zip(cold_s, lint_s, strict=True)), 2),
        "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cpu_count": os.cpu_count(),
        "playbook_lines": 200,
        "suggestions": len(cold.suggestions),
        "lint_error": cold.lint_error,
        "events": EVENTS,
        "targets": TARGETS,
        "ok": cold.lint_error is None and all(figures[k] <= v for k, v in TARGETS.items()),
    }


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="chiffon-bench-analyzer-") as tmp:
        return asyncio.run(_measure(Path(tmp)))


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
