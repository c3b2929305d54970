"""Planner: per-tier accuracy on ../shared/planner-dev, latency and index build on --scale 1000.

Tiers (see the set's README): A names the thing (top-1 right), M several things (every step
right, in order), N nothing fits (every step no_match), B describes the need (a right entry in
the first step's top 3 candidates), V carries values (right entry and the expected vars).
A var counts as right when its value printed as text is the expected one (the set writes
ports as strings; the planner coerces them to the type of the variable's default).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chiffon.catalog import CatalogService
from chiffon.db import make_engine, make_session_factory, upgrade_database
from chiffon.planner import Plan, Planner

from ._util import ROOT, median, percentile

DEV_SET = ROOT.parent / "shared" / "planner-dev"
TARGETS = {"A": 0.95, "M": 0.90, "N": 0.90, "B": 0.70, "V": 0.80}


def _names(step: dict[str, Any] | None) -> set[str]:
    if not step:
        return set()
    stem = step["path"].rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return {step["name"], stem, *step["tags"]}


def _steps_right(plan: dict[str, Any], expected: list[list[str]]) -> bool:
    steps = plan["steps"]
    return len(steps) == len(expected) and all(
        step["status"] == "matched" and _names(step["entry"]) & set(want)
        for step, want in zip(steps, expected, strict=True)
    )


def _vars_right(plan: dict[str, Any], expected: dict[str, Any]) -> bool:
    proposed = {k: v for step in plan["steps"] for k, v in step["vars"].items()}
    return all(k in proposed and str(proposed[k]) == str(v) for k, v in expected.items())


CHECKS: dict[str, Callable[[dict[str, Any], dict[str, Any]], bool]] = {
    "A": lambda plan, case: _steps_right(plan, case["steps"]),
    "M": lambda plan, case: _steps_right(plan, case["steps"]),
    "N": lambda plan, case: all(step["status"] == "no_match" for step in plan["steps"]),
    "B": lambda plan, case: (
        bool(plan["steps"])
        and any(
            _names(candidate) & set(case["steps"][0])
            for candidate in plan["steps"][0]["candidates"]
        )
    ),
    "V": lambda plan, case: (
        _steps_right(plan, case["steps"]) and _vars_right(plan, case.get("vars", {}))
    ),
}


def make_corpus(target: Path, scale: int = 0) -> None:
    command = [sys.executable, str(DEV_SET / "make_corpus.py"), str(target)]
    subprocess.run([*command, "--scale", str(scale)], check=True)


async def _planner(repo: Path, data: Path) -> tuple[Planner, CatalogService, Any]:
    url = f"sqlite+aiosqlite:///{data / 'bench.db'}"
    await asyncio.to_thread(upgrade_database, url)
    engine = make_engine(url)
    catalog = CatalogService(make_session_factory(engine), repo)
    await catalog.scan()
    return Planner(catalog), catalog, engine


def score(plans: list[tuple[dict[str, Any], Plan]]) -> dict[str, Any]:
    """Per-tier accuracy and the requests each tier got wrong."""
    tiers: dict[str, dict[str, Any]] = {}
    for case, plan in plans:
        tier = tiers.setdefault(case["tier"], {"right": 0, "total": 0, "wrong": []})
        tier["total"] += 1
        if CHECKS[case["tier"]](plan.to_json(), case):
            tier["right"] += 1
        else:
            tier["wrong"].append(case["request"])
    for name, tier in tiers.items():
        tier["accuracy"] = round(tier["right"] / tier["total"], 3)
        tier["target"] = TARGETS[name]
    return tiers


async def accuracy(tmp: Path) -> dict[str, Any]:
    repo, data = tmp / "dev", tmp / "dev-data"
    data.mkdir()
    make_corpus(repo)
    planner, _, engine = await _planner(repo, data)
    cases = [json.loads(line) for line in (DEV_SET / "requests.jsonl").read_text().splitlines()]
    try:
        return score([(case, await planner.plan(case["request"])) for case in cases])
    finally:
        await engine.dispose()


async def speed(tmp: Path, requests: list[str]) -> dict[str, Any]:
    repo, data = tmp / "scaled", tmp / "scaled-data"
    data.mkdir()
    make_corpus(repo, scale=1000)
    url = f"sqlite+aiosqlite:///{data / 'bench.db'}"
    await asyncio.to_thread(upgrade_database, url)
    engine = make_engine(url)
    catalog = CatalogService(make_session_factory(engine), repo)
    try:
        started = time.perf_counter()
        await catalog.scan()
        scan_s = time.perf_counter() - started
        started = time.perf_counter()
        rescan = await catalog.scan()
        rescan_s = time.perf_counter() - started
        planner = Planner(catalog)
        started = time.perf_counter()
        await planner.prepare()
        build_s = time.perf_counter() - started
        latencies = []
        for _ in range(3):
            for request in requests:
                started = time.perf_counter()
                await planner.plan(request)
                latencies.append((time.perf_counter() - started) * 1000)
        return {
            "entries": len(rescan.entries),
            "catalog_scan_s": round(scan_s, 3),
            "rescan_unchanged_s": round(rescan_s, 3),
            "index_build_s": round(build_s, 3),
            "plan_ms_p50": round(median(latencies), 2),
            "plan_ms_p95": round(percentile(latencies, 95), 2),
        }
    finally:
        await engine.dispose()


def run() -> dict[str, Any]:
    if not DEV_SET.is_dir():
        return {"skipped": f"{DEV_SET} is absent", "ok": True}
    requests = [
        json.loads(line)["request"]
        for line in (DEV_SET / "requests.jsonl").read_text().splitlines()
    ]
    with tempfile.TemporaryDirectory() as tmp:
        tiers = asyncio.run(accuracy(Path(tmp)))
        timing = asyncio.run(speed(Path(tmp), requests))
    ok = (
        all(t["accuracy"] >= t["target"] for t in tiers.values())
        and timing["plan_ms_p95"] <= 100
        and timing["index_build_s"] <= 15
        and timing["rescan_unchanged_s"] <= 1
    )
    return {"tiers": tiers, **timing, "target_plan_ms_p95": 100, "ok": ok}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
