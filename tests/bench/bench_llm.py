"""LLM planning overhead against a local OpenAI-compatible server that answers at once (so the
figures are Chiffon's own cost: prompt, HTTP through the openai SDK, validation, usage rows),
falling through a refused connection, and rendering a draft."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from chiffon.app import bootstrap
from chiffon.db import upgrade_database
from chiffon.planner import PlanStep, StepStatus, draft_for
from chiffon.settings import LlmProvider, Settings
from tests._fake_llm import fake_llm, pick_first

from ._util import ROOT, median, percentile

REQUEST = "deploy the web server on port 9090 and then say hello"
ROUNDS = 30


async def _timings(settings: Settings) -> list[float]:
    services = bootstrap(settings)
    await services.start()
    try:
        await services.planner.plan(REQUEST)  # warm: index, connections, imports
        times = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            plan = await services.planner.plan(REQUEST)
            times.append((time.perf_counter() - started) * 1000)
        expected = "deterministic" if not settings.llm_providers else "llm:"
        assert plan.planner.startswith(expected), plan.planner
        return times
    finally:
        await services.stop()


def _figures(times: list[float]) -> dict[str, float]:
    return {"p50_ms": round(median(times), 2), "p95_ms": round(percentile(times, 95), 2)}


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch, fake_llm(pick_first) as llm:
        data = Path(scratch)
        url = f"sqlite+aiosqlite:///{data / 'bench.db'}"
        upgrade_database(url)
        base = Settings(data_dir=data, database_url=url, playbooks_dir=ROOT / "tests/sample_repo")
        local = LlmProvider("local", llm.base_url, "fake")
        refused = LlmProvider("down", "http://127.0.0.1:9/v1", "fake", timeout_s=2)
        deterministic = asyncio.run(_timings(base))
        with_llm = asyncio.run(_timings(base.with_overrides(llm_providers=(local,))))
        falling = asyncio.run(_timings(base.with_overrides(llm_providers=(refused, local))))
    step = PlanStep("deploy uptime kuma on port 3001", StepStatus.NO_MATCH, None, 0, (), {}, ())
    draft_for(step)
    renders = []
    for _ in range(200):
        started = time.perf_counter()
        draft_for(step)
        renders.append((time.perf_counter() - started) * 1000)
    overhead = median(with_llm) - median(deterministic)
    return {
        "deterministic": _figures(deterministic),
        "llm_instant_local_server": _figures(with_llm),
        "llm_after_refused_provider": _figures(falling),
        "llm_overhead_p50_ms": round(overhead, 2),
        "draft_render_p50_ms": round(median(renders), 3),
        "target_llm_overhead_p50_ms": 50,
        "ok": overhead < 50,
    }
