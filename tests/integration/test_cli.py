"""The real ``chiffon`` command in a subprocess, on SQLite and PostgreSQL.

Each test gets its own data dir, a copy of the sample playbook repo and a fresh database; a
test that needs several steps runs them in that one data dir.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from chiffon.db import SCHEMA_HEAD
from chiffon.lib import proctree
from tests._runs import MARK

ENTRY_KEYS = {"kind", "name", "path", "description", "tags", "variables", "valid", "error"}
UNREACHABLE_DB = "postgresql+psycopg://nobody:hunter22-pw@127.0.0.1:1/x"


@dataclass
class Chiffon:
    """Runs ``python -m chiffon`` in ``cwd`` with a private environment."""

    env: dict[str, str]
    cwd: Path
    data_dir: Path
    repo: Path

    def __call__(
        self, *args: str, timeout: float = 180, input: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "chiffon", *args],
            cwd=self.cwd,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            input=input if input is not None else "",
        )


def _environment(tmp_path: Path, repo: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHIFFON_")}
    venv_bin = str(Path(sys.executable).parent)
    env.update(
        CHIFFON_DATA_DIR=str(tmp_path / "data"),
        CHIFFON_PLAYBOOKS_DIR=str(repo),
        PATH=venv_bin + os.pathsep + env.get("PATH", ""),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        PYTHONUNBUFFERED="1",
    )
    if database_url is not None:
        env["CHIFFON_DATABASE_URL"] = database_url
    return env


def _make(tmp_path: Path, repo: Path, database_url: str | None) -> Chiffon:
    cwd = tmp_path / "work"
    cwd.mkdir()
    env = _environment(tmp_path, repo, database_url)
    return Chiffon(env, cwd, tmp_path / "data", repo)


@pytest.fixture
def chiffon(tmp_path: Path, db_url: str, sample_repo: Path) -> Chiffon:
    """The command on the ``db_url`` database (SQLite and PostgreSQL)."""
    return _make(tmp_path, sample_repo, db_url)


@pytest.fixture
def chiffon_sqlite(tmp_path: Path, sample_repo: Path) -> Chiffon:
    """The command with no CHIFFON_DATABASE_URL: the SQLite file in the data dir."""
    return _make(tmp_path, sample_repo, None)


def sync_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return create_engine(parsed.set(drivername="sqlite"))
    return create_engine(parsed)


def sql(url: str, statement: str, **params: Any) -> list[Any]:
    """Run one statement on the database behind the service's back; return its rows."""
    engine = sync_engine(url)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement), params)
            return list(result) if result.returns_rows else []
    finally:
        engine.dispose()


def last_json(stdout: str) -> dict[str, Any]:
    lines = stdout.strip().splitlines()
    assert lines, "nothing on stdout"
    result = json.loads(lines[-1])
    assert isinstance(result, dict)
    return result


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    where = f"stdout={result.stdout!r} stderr={result.stderr!r}"
    assert result.returncode != 0, where
    assert "Traceback" not in result.stderr + result.stdout, where
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, where
    assert lines[0].startswith("chiffon: error: "), where
    for word in words:
        assert word in lines[0], where


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- help, database, catalog --------------------------------------------------------------


def test_it_prints_help_for_every_command(chiffon_sqlite: Chiffon) -> None:
    top = chiffon_sqlite("--help")

    assert top.returncode == 0
    for command in (
        "serve",
        "db",
        "catalog",
        "run",
        "analyze",
        "diagnose",
        "audit",
        "systemd-unit",
    ):
        assert command in top.stdout
    run = chiffon_sqlite("run", "--help")
    assert run.returncode == 0
    for option in ("--inventory", "--limit", "--tags", "--extra-vars", "--check", "--json"):
        assert option in run.stdout
    assert not (chiffon_sqlite.data_dir / "chiffon.db").exists()


def test_it_upgrades_a_migrated_database_again(chiffon: Chiffon, db_url: str) -> None:
    result = chiffon("db", "upgrade")

    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert sql(db_url, "SELECT version_num FROM alembic_version") == [(SCHEMA_HEAD,)]


def test_it_creates_the_sqlite_database_in_the_data_dir(chiffon_sqlite: Chiffon) -> None:
    result = chiffon_sqlite("db", "upgrade")

    assert result.returncode == 0, result.stderr
    database = chiffon_sqlite.data_dir / "chiffon.db"
    assert database.is_file()
    assert sql(f"sqlite:///{database}", "SELECT count(*) FROM runs") == [(0,)]


def test_it_scans_the_catalog_as_json_and_as_a_summary(chiffon: Chiffon) -> None:
    scanned = chiffon("catalog", "scan", "--json")

    assert scanned.returncode == 0, scanned.stderr
    entries = json.loads(scanned.stdout)
    assert isinstance(entries, list)
    for entry in entries:
        assert set(entry) >= ENTRY_KEYS, entry
    by_path = {(e["kind"], e["path"], e["name"]): e for e in entries}
    broken = by_path[("playbook", "broken.yml", "broken")]
    assert broken["valid"] is False
    assert "line 9" in broken["error"]
    hello = by_path[("playbook", "hello.yml", "hello")]
    assert hello["valid"] is True
    assert hello["error"] is None
    assert hello["description"].startswith("Say hello from every homelab host")
    assert {"name": "greeting", "default": "Hello", "source": "play vars"} in hello["variables"]
    web_tag = by_path[("tag", "site.yml", "web")]
    assert web_tag["valid"] is True
    assert web_tag.get("role") == "web"
    assert ("role", "roles/web", "web") in by_path

    summary = chiffon("catalog", "scan")

    assert summary.returncode == 0, summary.stderr
    assert re.search(r"^! playbook +broken +broken\.yml$", summary.stdout, re.MULTILINE)
    assert "line 9, column 6" in summary.stdout
    last = summary.stdout.strip().splitlines()[-1]
    invalid = sum(not e["valid"] for e in entries)
    assert re.match(rf"{len(entries)} entries \({invalid} invalid\) in [0-9.]+s: ", last), last
    assert last.endswith(f"0 parsed, {len(entries)} unchanged, 0 removed"), last


# -- running playbooks --------------------------------------------------------------------


@pytest.mark.slow
def test_it_runs_a_playbook_streaming_its_log_and_ending_with_a_json_line(
    chiffon: Chiffon, db_url: str
) -> None:
    result = chiffon("run", "hello.yml", "--json")

    assert result.returncode == 0, result.stderr
    log = result.stdout
    assert "TASK [Greet]" in log
    assert "Hello from localhost" in log
    assert log.index("PLAY RECAP") < log.rindex("{")
    assert "\x1b[" not in log  # no colour codes when stdout is not a terminal
    final = last_json(log)
    assert set(final) == {"run_id", "status", "rc", "audit_commit", "resources"}
    assert final["resources"]["cpu_s"] > 0
    assert final["resources"]["wall_s"] > 0
    assert final["run_id"] == 1
    assert final["status"] == "succeeded"
    assert final["rc"] == 0
    assert re.fullmatch(r"[0-9a-f]{40}", final["audit_commit"])
    rows = sql(db_url, "SELECT status, rc, audit_commit FROM runs")
    assert rows == [("succeeded", 0, final["audit_commit"])]


@pytest.mark.slow
def test_it_exits_non_zero_when_the_playbook_fails(chiffon: Chiffon) -> None:
    result = chiffon("run", "fail.yml", "--json")

    assert result.returncode != 0
    assert "This playbook fails on purpose" in result.stdout
    assert "Not printed" not in result.stdout
    final = last_json(result.stdout)
    assert final["status"] == "failed"
    assert final["rc"] not in (0, None)
    assert re.fullmatch(r"[0-9a-f]{40}", final["audit_commit"])


@pytest.mark.slow
def test_it_passes_extra_vars_to_the_playbook(chiffon: Chiffon) -> None:
    (chiffon.cwd / "vars.yml").write_text("---\nrelease: '9.9.9'\napp_port: 9443\n")

    result = chiffon("run", "vars-demo.yml", "-e", "app_name=from-cli", "-e", "@vars.yml", "--json")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "from-cli 9.9.9 on port 9443, admin admin@example.com" in result.stdout
    assert last_json(result.stdout)["status"] == "succeeded"


@pytest.mark.slow
def test_it_runs_with_a_date_in_a_vars_file(chiffon: Chiffon) -> None:
    # YAML reads 2024-01-01 as a date; the run must still be stored and run, not crash.
    (chiffon.cwd / "dated.yml").write_text("release: 2024-01-01\n")

    result = chiffon("run", "vars-demo.yml", "-e", "@dated.yml", "--json")

    assert "Traceback" not in result.stderr
    assert result.returncode == 0, result.stderr[-2000:]
    assert "demo 2024-01-01 on port 8080" in result.stdout


@pytest.mark.slow
def test_it_refuses_bad_run_input_without_storing_a_run(chiffon: Chiffon, db_url: str) -> None:
    outside = chiffon.repo.parent / "outside"
    outside.mkdir()
    shutil.copyfile(chiffon.repo / "hello.yml", outside / "sneaky.yml")
    (chiffon.repo / "escape.yml").symlink_to("/etc/passwd")
    (chiffon.repo / "linked").symlink_to(outside, target_is_directory=True)
    cases: list[tuple[list[str], tuple[str, ...]]] = [
        (["no-such-entry"], ("no catalog entry matches 'no-such-entry'",)),
        (["helo"], ("Did you mean", "hello")),
        (["../../etc/passwd"], ("outside the playbook repo", "CHIFFON_PLAYBOOKS_DIR")),
        (["/etc/passwd"], ("outside the playbook repo",)),
        (["escape.yml"], ("outside the playbook repo",)),
        (["linked/sneaky.yml"], ("outside the playbook repo",)),
        (["sneaky"], ("no catalog entry matches 'sneaky'",)),
        (["hello.yml", "-e", "novalue"], ("novalue", "name=value")),
        (["hello.yml", "-e", "@missing.yml"], ("@missing.yml", "cannot read")),
        (["hello.yml", "-i", "nope.yml"], ("nope.yml", "does not exist")),
        (["broken.yml"], ("broken.yml cannot run", "line 9")),
    ]

    for args, words in cases:
        result = chiffon("run", *args, "--json")
        assert_one_line_error(result, *words)

    assert sql(db_url, "SELECT count(*) FROM runs") == [(0,)]
    assert sql(db_url, "SELECT count(*) FROM run_events") == [(0,)]
    runs_dir = chiffon.data_dir / "runs"
    assert not runs_dir.exists() or list(runs_dir.iterdir()) == []
    good = chiffon("run", "hello", "--json")
    assert good.returncode == 0, good.stderr
    assert last_json(good.stdout)["run_id"] == 1


def _left_behind(chiffon: Chiffon) -> set[int]:
    """Processes of this test's Chiffon still running (ansible-playbook inherits its env)."""
    deadline = time.monotonic() + 5
    while (left := proctree.marked_processes("CHIFFON_DATA_DIR", str(chiffon.data_dir))) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.05)
    return left


@pytest.mark.slow
def test_it_runs_a_playbook_once_with_its_head_start_and_without(
    chiffon: Chiffon, db_url: str
) -> None:
    (chiffon.repo / "mark.yml").write_text(MARK)
    mark = chiffon.cwd / "mark.txt"

    held = chiffon("run", "mark", "-e", f"mark_file={mark}", "--json")
    plain = chiffon("run", "mark", "-e", f"mark_file={mark}", "--json", CHIFFON_HEAD_START="0")

    for result in (held, plain):
        assert result.returncode == 0, result.stderr[-2000:]
        assert last_json(result.stdout)["status"] == "succeeded"
        assert "TASK [Append a line]" in result.stdout
    assert mark.read_text() == "ran\nran\n"
    assert sql(db_url, "SELECT status FROM runs ORDER BY id") == [("succeeded",), ("succeeded",)]
    assert list((chiffon.data_dir / "runs").iterdir()) == []


@pytest.mark.slow
def test_it_refuses_an_unreviewed_generated_playbook_and_nothing_of_it_runs(
    chiffon: Chiffon, db_url: str
) -> None:
    # Its template runs a command as ansible-playbook loads it, before any play: started
    # ahead (the head start), it must not get that far.
    mark, loaded = chiffon.cwd / "mark.txt", chiffon.cwd / "loaded.txt"
    lookup = "{{ lookup('pipe', 'touch " + str(loaded) + "') }}"
    (chiffon.repo / "t.yml").write_text("- ansible.builtin.debug:\n    msg: imported\n")
    drafted = (
        "# chiffon:\n#   generated: true\n#   description: drafted\n---\n" + MARK
        + f'    - ansible.builtin.import_tasks: "t{lookup}.yml"\n'
    )  # fmt: skip
    (chiffon.repo / "drafted.yml").write_text(drafted)

    result = chiffon("run", "drafted.yml", "-e", f"mark_file={mark}", "--json")

    assert_one_line_error(result, "drafted.yml", "nobody has reviewed it")
    assert not mark.exists()
    assert not loaded.exists()
    assert sql(db_url, "SELECT count(*) FROM runs") == [(0,)]
    assert _left_behind(chiffon) == set()


@pytest.mark.slow
@pytest.mark.parametrize("when", ["while it gets ready", "while the playbook runs"])
def test_ctrl_c_stops_the_run_and_every_process_of_it(chiffon_sqlite: Chiffon, when: str) -> None:
    chiffon = chiffon_sqlite
    command = subprocess.Popen(
        [sys.executable, "-m", "chiffon", "run", "slow.yml", "--json"],
        cwd=chiffon.cwd,
        env=chiffon.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert command.stdout is not None
    if when == "while it gets ready":
        time.sleep(0.5)  # ansible-playbook started ahead, the run not stored yet
    else:
        for line in command.stdout:
            if "TASK [Sleep]" in line:
                break
        time.sleep(0.5)
    command.send_signal(signal.SIGINT)
    stdout, stderr = command.communicate(timeout=30)

    assert command.returncode != 0
    assert "Traceback" not in stderr
    if when == "while the playbook runs":
        assert last_json(stdout)["status"] == "cancelled"
    assert "Awake" not in stdout
    assert _left_behind(chiffon) == set()


@pytest.mark.slow
def test_it_refuses_an_inventory_outside_the_playbook_repo(chiffon: Chiffon, db_url: str) -> None:
    # An executable inventory is a script ansible runs: one from outside the repo would let
    # whoever names it (the web form and API take the same field) run any program.
    marker = chiffon.cwd / "inventory-script-ran"
    script = chiffon.repo.parent / "evil-inventory.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\necho '{{}}'\n")
    script.chmod(0o755)

    for inventory in (str(script), "../evil-inventory.sh"):
        result = chiffon("run", "hello.yml", "-i", inventory, "--json")
        assert_one_line_error(result, inventory, "outside the playbook repo")

    assert not marker.exists()
    assert sql(db_url, "SELECT count(*) FROM runs") == [(0,)]


@pytest.mark.slow
def test_it_refuses_extra_vars_the_database_cannot_store(chiffon: Chiffon, db_url: str) -> None:
    # json.loads reads NaN; PostgreSQL's JSON type refuses it when the run is inserted.
    result = chiffon("run", "hello.yml", "-e", '{"ratio": NaN}', "--json")

    assert_one_line_error(result, "ratio")
    assert sql(db_url, "SELECT count(*) FROM runs") == [(0,)]


# -- audit ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_it_verifies_the_audit_trail_and_names_a_run_changed_behind_its_back(
    chiffon: Chiffon, db_url: str
) -> None:
    assert chiffon("run", "hello.yml", "--json").returncode == 0
    assert chiffon("run", "fail.yml", "--json").returncode != 0

    clean = chiffon("audit", "verify")

    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "checked 2 runs and 0 plans: ok" in clean.stdout

    sql(db_url, "UPDATE runs SET status = 'failed' WHERE id = 1")
    tampered = chiffon("audit", "verify")

    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    assert "run 1:" in tampered.stdout
    assert "status" in tampered.stdout
    assert "run 2:" not in tampered.stdout
    assert "PROBLEMS FOUND" in tampered.stdout


@pytest.mark.slow
def test_it_lists_the_failures_of_the_last_days(chiffon: Chiffon, db_url: str) -> None:
    assert chiffon("run", "hello.yml", "--json").returncode == 0
    failed = json.loads(chiffon("run", "fail.yml", "--json").stdout.splitlines()[-1])
    three_days_back = (
        "finished_at - INTERVAL '3 days'"
        if db_url.startswith("postgresql")
        else "datetime(finished_at, '-3 days')"
    )
    sql(db_url, f"UPDATE audit_records SET finished_at = {three_days_back}")

    listed = chiffon("audit", "failures", "--days", "7", "--json")
    text = chiffon("audit", "failures")
    recent = chiffon("audit", "failures", "--days", "1")

    assert listed.returncode == 0, listed.stderr
    [item] = json.loads(listed.stdout)
    assert (item["kind"], item["id"], item["status"]) == ("run", failed["run_id"], "failed")
    assert item["title"] == "fail" and item["requested_by"] == "cli"
    assert item["commit"] == failed["audit_commit"]
    assert item["error"] == "localhost: Fail here: This playbook fails on purpose"
    assert text.returncode == 0
    assert f"run {failed['run_id']}" in text.stdout and failed["audit_commit"] in text.stdout
    assert "1 failed in the last 7 days" in text.stdout
    assert recent.returncode == 0 and recent.stdout == "0 failed in the last 1 day\n"


@pytest.mark.parametrize("days", ["0", "-3", "seven", "1.5", "99999999"])
def test_it_refuses_a_bad_number_of_days(chiffon_sqlite: Chiffon, days: str) -> None:
    result = chiffon_sqlite("audit", "failures", f"--days={days}")

    assert result.returncode == 2
    assert "argument --days" in result.stderr and "not a number of days" in result.stderr
    assert "Traceback" not in result.stderr


# -- serve ----------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::"])
def test_it_refuses_to_serve_on_a_non_loopback_address(chiffon_sqlite: Chiffon, host: str) -> None:
    port = free_port()
    started = time.monotonic()

    result = chiffon_sqlite("serve", "--host", host, "--port", str(port), timeout=30)

    assert time.monotonic() - started < 15
    assert_one_line_error(result, f"refusing to listen on {host}", "loopback")
    assert not (chiffon_sqlite.data_dir / "chiffon.db").exists()


def test_it_stops_serving_at_start_up_when_the_database_cannot_connect(
    chiffon_sqlite: Chiffon,
) -> None:
    result = chiffon_sqlite(
        "serve", "--port", str(free_port()), timeout=60, CHIFFON_DATABASE_URL=UNREACHABLE_DB
    )

    assert_one_line_error(result, "cannot connect", "Connection refused", "CHIFFON_DATABASE_URL")
    assert "hunter22-pw" not in result.stderr


def test_it_stops_at_start_up_on_a_bad_port_setting(chiffon_sqlite: Chiffon) -> None:
    result = chiffon_sqlite("serve", timeout=30, CHIFFON_PORT="eighty")

    assert_one_line_error(result, "CHIFFON_PORT", "'eighty'", "1 to 65535")


def test_it_refuses_a_port_option_out_of_range(chiffon_sqlite: Chiffon) -> None:
    # Given the unreachable database, a missing check fails at the database instead of
    # binding port 70000 - 65536 = 4464 as it otherwise would.
    result = chiffon_sqlite(
        "serve", "--port", "70000", timeout=60, CHIFFON_DATABASE_URL=UNREACHABLE_DB
    )

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "65535" in result.stderr


# -- systemd --------------------------------------------------------------------------------


def test_it_prints_a_hardened_systemd_unit(chiffon_sqlite: Chiffon, tmp_path: Path) -> None:
    result = chiffon_sqlite("systemd-unit")

    assert result.returncode == 0, result.stderr
    unit = result.stdout
    assert f"ExecStart={sys.executable} -m chiffon serve" in unit.splitlines()
    for line in ("NoNewPrivileges=yes", "ProtectSystem=strict", "[Install]", "[Service]"):
        assert line in unit.splitlines()
    assert f"ReadWritePaths=/var/lib/chiffon {chiffon_sqlite.repo}" in unit.splitlines()
    if shutil.which("systemd-analyze") is None:
        return
    unit_file = tmp_path / "chiffon.service"
    unit_file.write_text(unit)
    verified = subprocess.run(
        ["systemd-analyze", "verify", str(unit_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "chiffon.service" not in verified.stderr, verified.stderr


# -- accounts -------------------------------------------------------------------------------


def _wait_healthy(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("chiffon serve did not become healthy")


def test_it_adds_an_admin_and_a_token_then_serves_on_any_address(
    chiffon: Chiffon,
) -> None:
    added = chiffon("user", "add", "ada", "--role", "admin", "--password-stdin",
                    input="correct horse battery\n")  # fmt: skip
    token = chiffon("token", "create", "--user", "ada", "--name", "ci")
    listed = chiffon("user", "list", "--json")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "chiffon", "serve", "--host", "0.0.0.0", "--port", str(port)],
        cwd=chiffon.cwd, env=chiffon.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, server)
        bearer = {"Authorization": f"Bearer {token.stdout.strip()}"}
        me = httpx.get(url + "/api/me", headers=bearer, timeout=5)
        anonymous = httpx.get(url + "/api/plans", timeout=5)
    finally:
        server.terminate()
        server.communicate(timeout=15)

    assert added.returncode == 0 and "added ada (admin)" in added.stdout
    assert token.returncode == 0 and token.stdout.startswith("chf_")
    assert "shown once" in token.stderr
    assert [(u["name"], u["role"]) for u in json.loads(listed.stdout)] == [("ada", "admin")]
    assert me.json() == {"name": "ada", "role": "admin", "via": "token"}
    assert anonymous.status_code == 401


def test_it_revokes_a_token_and_refuses_bad_account_input(chiffon: Chiffon) -> None:
    chiffon("user", "add", "ada", "--role", "admin", "--password-stdin", input="long enough pw\n")
    chiffon("token", "create", "--user", "ada")
    [token] = json.loads(chiffon("token", "list", "--json").stdout)
    token_id = token["id"]

    short = chiffon("user", "add", "bob", "--password-stdin", input="short\n")
    no_terminal = chiffon("user", "add", "bob", input="")
    taken = chiffon("user", "add", "ada", "--password-stdin", input="long enough pw\n")
    last_admin = chiffon("user", "remove", "ada")
    revoked = chiffon("token", "revoke", str(token_id))
    again = chiffon("token", "revoke", str(token_id))
    nobody = chiffon("token", "create", "--user", "nobody")

    assert_one_line_error(short, "too short", "at least 8")
    assert_one_line_error(no_terminal, "--password-stdin")
    assert_one_line_error(taken, "already an account named ada")
    assert_one_line_error(last_admin, "last admin")
    assert revoked.returncode == 0 and f"revoked API token {token_id}" in revoked.stdout
    assert_one_line_error(again, "revoked already")
    assert_one_line_error(nobody, "no account named nobody")
