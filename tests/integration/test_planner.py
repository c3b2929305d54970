"""The planner on the development corpus (../shared/planner-dev), on SQLite and PostgreSQL,
and ``chiffon plan`` in a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chiffon.catalog import CatalogService
from chiffon.db import SessionFactory
from chiffon.planner import Planner, RequestError, StepStatus
from tests.bench.bench_planner import TARGETS, score

ROOT = Path(__file__).resolve().parents[2]
DEV_SET = ROOT.parent / "shared" / "planner-dev"
PLAN_KEYS = {"request", "status", "planner", "risk", "steps", "correlation_id", "usage"}
STEP_KEYS = {
    "clause",
    "status",
    "entry",
    "confidence",
    "candidates",
    "vars",
    "target",
    "depends_on",
    "draft",
    "placement",
}
ENTRY_KEYS = {"kind", "name", "path", "role", "tags"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (DEV_SET / "make_corpus.py").is_file():
        pytest.skip(f"the planner development set is absent: {DEV_SET} (CI has ../shared)")
    target = tmp_path_factory.mktemp("corpus") / "repo"
    subprocess.run([sys.executable, str(DEV_SET / "make_corpus.py"), str(target)], check=True)
    return target


@pytest.fixture
async def planner(session_factory: SessionFactory, corpus: Path) -> Planner:
    catalog = CatalogService(session_factory, corpus)
    await catalog.scan()
    return Planner(catalog)


def cases() -> list[dict[str, Any]]:
    lines = (DEV_SET / "requests.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


async def test_it_meets_every_tier_target_on_the_dev_set(planner: Planner) -> None:
    plans = [(case, await planner.plan(case["request"])) for case in cases()]
    tiers = score(plans)
    assert set(tiers) == set(TARGETS)
    for name, tier in tiers.items():
        assert tier["accuracy"] >= TARGETS[name], (name, tier["wrong"])


async def test_it_plans_the_seed_scenario_in_order_with_the_portals(planner: Planner) -> None:
    plan = await planner.plan(
        "Deploy Kuma Uptime to homelab and add our existing portals to the config"
    )
    document = plan.to_json()
    assert set(document) == PLAN_KEYS
    assert (document["status"], document["planner"]) == ("pending_approval", "deterministic")
    assert set(document["risk"]) == {"level", "reasons"}
    first, second = document["steps"]
    assert set(first) == STEP_KEYS and set(first["entry"]) == ENTRY_KEYS
    assert [first["entry"]["name"], second["entry"]["name"]] == [
        "kuma-deploy",
        "kuma-config-update",
    ]
    assert second["depends_on"] == [0]
    assert [p["name"] for p in second["vars"]["kuma_monitors"]] == ["portal-1", "portal-2"]
    assert all(set(c) == ENTRY_KEYS | {"score", "reason"} for c in first["candidates"])
    assert first["candidates"][0]["reason"] == "name 'kuma'"
    assert len(first["candidates"]) <= 3


async def test_it_puts_installation_before_configuration_of_the_same_service(
    planner: Planner,
) -> None:
    plan = await planner.plan("add our existing portals to the kuma config and deploy kuma")
    assert [s.entry.name for s in plan.steps if s.entry] == ["kuma-deploy", "kuma-config-update"]
    assert plan.steps[1].depends_on == (0,)


async def test_it_orders_steps_by_the_requires_header(planner: Planner) -> None:
    plan = await planner.plan("add the portals to the kuma config, deploy kuma")
    assert [s.entry.name for s in plan.steps if s.entry] == ["kuma-deploy", "kuma-config-update"]


async def test_it_rates_a_removal_high_risk_and_sets_enabled_false(planner: Planner) -> None:
    plan = await planner.plan("remove grafana")
    assert plan.risk.level == "high"
    assert plan.steps[0].vars == {"grafana_enabled": False}


async def test_it_rates_a_play_on_every_host_medium_risk(planner: Planner) -> None:
    plan = await planner.plan("install docker on all hosts")
    assert plan.steps[0].entry is not None and plan.steps[0].entry.name == "docker"
    assert plan.steps[0].target == "all"
    assert plan.risk.level == "medium"
    assert "docker runs on every host (hosts: all)" in plan.risk.reasons


async def test_it_reads_an_inventory_group_as_the_target(planner: Planner) -> None:
    plan = await planner.plan("run redis on the docker hosts")
    assert plan.steps[0].entry is not None and plan.steps[0].entry.name == "redis"
    assert plan.steps[0].target == "docker_hosts"


async def test_it_plans_an_invalid_entry_but_says_it_cannot_run(
    session_factory: SessionFactory, corpus: Path, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(corpus, repo)
    playbook = repo / "ssh-hardening.yml"
    playbook.write_text(playbook.read_text().replace("---\n", "#   requires: [base\n---\n", 1))
    catalog = CatalogService(session_factory, repo)
    await catalog.scan()

    plan = await Planner(catalog).plan("harden ssh")

    entry = plan.steps[0].entry
    assert entry is not None and entry.name == "ssh-hardening" and not entry.valid
    assert plan.risk.level == "high"
    assert any("cannot run until fixed" in reason for reason in plan.risk.reasons)


async def test_it_answers_no_match_for_gibberish_emoji_and_other_languages(
    planner: Planner,
) -> None:
    longest = " ".join(f"zq{n}x" for n in range(400))[:2000]
    for text in ("qwrtzp xkcdl", "🎉🚀", "установить графану", "部署 一个 服务", longest):
        plan = await planner.plan(text)
        assert plan.steps and all(s.status is StepStatus.NO_MATCH for s in plan.steps)


async def test_it_refuses_empty_and_huge_requests(planner: Planner) -> None:
    for text in ("", "   \n", "x" * 2001):
        with pytest.raises(RequestError):
            await planner.plan(text)


async def test_it_rebuilds_the_index_only_when_the_catalog_changed(
    session_factory: SessionFactory, corpus: Path, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    await asyncio.to_thread(shutil.copytree, corpus, repo)
    catalog = CatalogService(session_factory, repo)
    await catalog.scan()
    planner = Planner(catalog)
    first = await planner.prepare()
    assert await planner.prepare() is first
    (repo / "roles" / "gitea" / "tasks").mkdir(parents=True)
    (repo / "roles" / "gitea" / "tasks" / "main.yml").write_text(
        "---\n- name: Run the gitea container\n  ansible.builtin.debug:\n    msg: hi\n"
    )
    await catalog.scan()
    assert await planner.prepare() is not first
    plan = await planner.plan("deploy gitea")
    assert plan.steps[0].entry is not None and plan.steps[0].entry.name == "gitea"


async def test_it_plans_against_an_empty_repo(
    session_factory: SessionFactory, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    catalog = CatalogService(session_factory, tmp_path / "empty")
    await catalog.scan()
    plan = await Planner(catalog).plan("deploy grafana")
    assert [s.status for s in plan.steps] == [StepStatus.NO_MATCH]


# -- the command ----------------------------------------------------------------------------


def chiffon(
    tmp_path: Path, repo: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHIFFON_")}
    env.update(
        CHIFFON_DATA_DIR=str(tmp_path / "data"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        PYTHONPATH=str(ROOT),  # this checkout's chiffon, whichever the venv installed
    )
    return subprocess.run(
        [sys.executable, "-m", "chiffon", "plan", *args, "--playbooks", str(repo)],
        env=env,
        cwd=tmp_path,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_it_prints_a_plan_as_json(tmp_path: Path, corpus: Path) -> None:
    done = chiffon(tmp_path, corpus, "install docker and then deploy immich", "--format", "json")
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert [s["entry"]["name"] for s in plan["steps"]] == ["docker", "immich"]
    assert plan["steps"][1]["depends_on"] == [0]


def test_it_prints_a_plan_as_text(tmp_path: Path, corpus: Path) -> None:
    done = chiffon(tmp_path, corpus, "set up Nextcloud")
    assert done.returncode == 0, done.stderr
    assert "no match" in done.stdout and "risk: low" in done.stdout


def test_it_plans_a_batch_one_json_line_per_request(tmp_path: Path, corpus: Path) -> None:
    batch = "deploy grafana on port 3300\n\nset up Nextcloud\n🎉\n"
    done = chiffon(tmp_path, corpus, "--batch", "-", stdin=batch)
    assert done.returncode == 0, done.stderr
    plans = [json.loads(line) for line in done.stdout.splitlines()]
    assert [p["request"] for p in plans] == [
        "deploy grafana on port 3300",
        "set up Nextcloud",
        "🎉",
    ]
    assert plans[0]["steps"][0]["vars"]["grafana_port"] == "3300"
    assert plans[1]["steps"][0]["status"] == "no_match"


def test_it_reads_a_batch_file_and_reports_rejected_lines(tmp_path: Path, corpus: Path) -> None:
    requests = tmp_path / "requests.txt"
    requests.write_text("install caddy\n" + "y" * 2001 + "\n")
    done = chiffon(tmp_path, corpus, "--batch", str(requests))
    assert done.returncode == 2
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert first["steps"][0]["entry"]["name"] == "caddy"
    assert "2000" in second["error"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("",), "empty"),
        (("z" * 2001,), "2001 characters"),
        ((), "exactly one"),
        (("deploy grafana", "--batch", "-"), "exactly one"),
        (("--batch", "/nonexistent/requests.txt"), "cannot read"),
    ],
)
def test_it_refuses_bad_input_with_exit_2(
    tmp_path: Path, corpus: Path, args: tuple[str, ...], message: str
) -> None:
    done = chiffon(tmp_path, corpus, *args)
    assert done.returncode == 2
    assert done.stderr.startswith("chiffon: error: ") and message in done.stderr
    assert "Traceback" not in done.stderr


def test_it_prints_help_for_plan(tmp_path: Path, corpus: Path) -> None:
    done = chiffon(tmp_path, corpus, "--help")
    assert done.returncode == 0
    assert "--batch" in done.stdout and "--format" in done.stdout


async def test_it_is_wired_into_the_services(services: Any) -> None:
    plan = await services.planner.plan("say hello to the homelab")
    assert plan.steps[0].entry is not None and plan.steps[0].entry.name == "hello"
