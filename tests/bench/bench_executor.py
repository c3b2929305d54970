"""Executor overhead: `chiffon run` vs `ansible-playbook` on the same 30-task playbook.

The two run side by side in pairs, alternating which goes first: this machine is shared and
its speed drifts by tens of percent between seconds, so only adjacent runs are comparable,
and each figure is the median of the pairs' ratios with their quartiles and extremes. Both
wall time and CPU time (user + system of the process and everything below it) are reported:
CPU time is what Chiffon adds wherever it runs, wall time also counts the waits, and under
load the CPU Chiffon adds is wall time that ansible-playbook waits for a core.
"""

from __future__ import annotations

import compileall
import json
import os
import resource
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._util import BIN, ROOT, env, median

TASKS = 30
PAIRS = int(os.environ.get("CHIFFON_BENCH_PAIRS", "10"))
TARGET = 1.15


def _write_repo(repo: Path) -> None:
    (repo / "inventory").mkdir(parents=True)
    (repo / "inventory" / "hosts.yml").write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        '      ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'
    )
    tasks = []
    for n in range(TASKS):
        if n % 3 == 0:
            tasks.append(
                f"    - name: Command {n}\n      ansible.builtin.command: echo {n}\n"
                "      changed_when: false\n"
            )
        else:
            tasks.append(
                f"    - name: Debug {n}\n      ansible.builtin.debug:\n        msg: step {n}\n"
            )
    (repo / "thirty.yml").write_text(
        "- name: Thirty tasks\n  hosts: all\n  gather_facts: false\n  tasks:\n" + "".join(tasks)
    )


@dataclass(frozen=True)
class _Timed:
    wall_s: float
    cpu_s: float  # the command and everything below it
    stdout: str


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time(command: list[str], cwd: Path, environ: dict[str, str]) -> _Timed:
    cpu_before, started = _children_cpu_s(), time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=environ, check=True, capture_output=True, text=True)
    wall_s = time.perf_counter() - started
    return _Timed(wall_s, _children_cpu_s() - cpu_before, done.stdout)


def _spread(values: list[float]) -> dict[str, float]:
    low, mid, high = statistics.quantiles(values, n=4, method="inclusive")
    return {
        "min": round(min(values), 3),
        "q1": round(low, 3),
        "median": round(mid, 3),
        "q3": round(high, 3),
        "max": round(max(values), 3),
    }


def _ansible_cpu_s(stdout: str) -> float:
    """The ansible tree's CPU time as ``chiffon run --json`` reports it (its last line)."""
    resources = json.loads(stdout.strip().splitlines()[-1]).get("resources") or {}
    return float(resources.get("cpu_s") or 0.0)


def run() -> dict[str, Any]:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        _write_repo(repo)
        environ = env(Path(tmp) / "data", CHIFFON_PLAYBOOKS_DIR=str(repo))
        inventory = ["-i", "inventory/hosts.yml"]  # the same for both: a fair comparison
        playbook = [str(BIN / "ansible-playbook"), *inventory, "thirty.yml"]
        chiffon = [str(BIN / "chiffon"), "run", "thirty.yml", *inventory, "--json"]
        # Chiffon's bytecode, as pip writes it for an installed package (ansible's is there):
        # an editable install under PYTHONDONTWRITEBYTECODE would compile it on every run.
        compileall.compile_dir(ROOT / "chiffon", quiet=1)
        _time(chiffon, repo, environ)  # warm: migrations, first scan, page cache
        _time(playbook, repo, environ)
        plain: list[_Timed] = []
        wrapped: list[_Timed] = []
        for n in range(PAIRS):
            pair = [(playbook, plain), (chiffon, wrapped)]
            for command, times in pair if n % 2 == 0 else reversed(pair):
                times.append(_time(command, repo, environ))
    wall_ratios = [c.wall_s / p.wall_s for c, p in zip(wrapped, plain, strict=True)]
    cpu_ratios = [c.cpu_s / p.cpu_s for c, p in zip(wrapped, plain, strict=True)]
    own_cpu = [c.cpu_s - _ansible_cpu_s(c.stdout) for c in wrapped]
    ratio = median(wall_ratios)
    return {
        "ansible_playbook_s": round(median([p.wall_s for p in plain]), 3),
        "chiffon_run_s": round(median([c.wall_s for c in wrapped]), 3),
        "overhead_ratio": round(ratio, 3),
        "overhead_ratio_spread": _spread(wall_ratios),
        "ansible_playbook_cpu_s": round(median([p.cpu_s for p in plain]), 3),
        "chiffon_run_cpu_s": round(median([c.cpu_s for c in wrapped]), 3),
        # Chiffon's own process: the run's CPU less that of its ansible tree.
        "chiffon_own_cpu_s": round(median(own_cpu), 3),
        "cpu_ratio": round(median(cpu_ratios), 3),
        "cpu_ratio_spread": _spread(cpu_ratios),
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "cores": os.cpu_count(),
        "target_ratio": TARGET,
        "pairs": PAIRS,
        "tasks": TASKS,
        "ok": ratio <= TARGET,
    }
