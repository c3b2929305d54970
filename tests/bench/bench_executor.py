"""Executor overhead: `chiffon run` vs `ansible-playbook` on the same 30-task playbook."""

from __future__ import annotations

import compileall
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from ._util import BIN, ROOT, env, median

TASKS = 30
ROUNDS = 6


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


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time(
    command: list[str], cwd: Path, environ: dict[str, str], cpu: list[float] | None = None
) -> float:
    started, cpu_before = time.perf_counter(), _cpu()
    subprocess.run(command, cwd=cwd, env=environ, check=True, capture_output=True)
    if cpu is not None:
        cpu.append(_cpu() - cpu_before)
    return time.perf_counter() - started


def _quartiles(values: list[float]) -> list[float]:
    """The spread of the pairs: this machine is shared, so one median alone says too little."""
    low, _, high = statistics.quantiles(values, n=4)
    return [round(low, 3), round(high, 3)]


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        _write_repo(repo)
        environ = env(Path(tmp) / "data", CHIFFON_PLAYBOOKS_DIR=str(repo))
        playbook = [str(BIN / "ansible-playbook"), "-i", "inventory/hosts.yml", "thirty.yml"]
        chiffon = [str(BIN / "chiffon"), "run", "thirty.yml", "--json"]
        # Chiffon's bytecode, as pip writes it for an installed package (ansible's is there):
        # an editable install under PYTHONDONTWRITEBYTECODE would compile it on every run.
        compileall.compile_dir(ROOT / "chiffon", quiet=1)
        _time(chiffon, repo, environ)  # warm: migrations, first scan, page cache
        plain, wrapped, ratios = [], [], []
        cpu: dict[int, list[float]] = {id(plain): [], id(wrapped): []}
        for n in range(ROUNDS):
            # Side by side, alternating which goes first: this machine's speed drifts by
            # tens of percent between seconds, so only adjacent pairs are comparable.
            pair = [(playbook, plain), (chiffon, wrapped)]
            for command, times in pair if n % 2 == 0 else reversed(pair):
                times.append(_time(command, repo, environ, cpu[id(times)]))
            ratios.append(wrapped[-1] / plain[-1])
    ratio = median(ratios)
    cpu_ratios = [c / p for c, p in zip(cpu[id(wrapped)], cpu[id(plain)], strict=True)]
    return {
        "ansible_playbook_s": round(median(plain), 3),
        "chiffon_run_s": round(median(wrapped), 3),
        "overhead_ratio": round(ratio, 3),
        "overhead_ratio_best_pair": round(min(ratios), 3),
        "overhead_ratio_quartiles": _quartiles(ratios),
        "ansible_playbook_cpu_s": round(median(cpu[id(plain)]), 3),
        "chiffon_run_cpu_s": round(median(cpu[id(wrapped)]), 3),
        "cpu_ratio": round(median(cpu[id(wrapped)]) / median(cpu[id(plain)]), 3),
        "cpu_ratio_quartiles": _quartiles(cpu_ratios),
        "target_ratio": 1.15,
        "rounds": ROUNDS,
        "tasks": TASKS,
        "ok": ratio <= 1.15,
    }
