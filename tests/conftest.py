"""Shared fixtures: every database test runs on SQLite AND PostgreSQL.

`db_url` gives a fresh migrated database per test: a copy of a migrated SQLite file, or a
PostgreSQL database cloned from a migrated template. With CHIFFON_REQUIRE_PG=1 (CI sets it) an
unreachable PostgreSQL is an error, and a session in which no PostgreSQL test passed fails.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from chiffon.db import SessionFactory, make_engine, make_session_factory, upgrade_database
from chiffon.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_REPO = Path(__file__).resolve().parent / "sample_repo"
PG_ADMIN = os.environ.get("CHIFFON_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_PG = os.environ.get("CHIFFON_REQUIRE_PG") == "1"

_pg_passed = 0


def _venv_bin_first() -> None:
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if not path.startswith(bin_dir + os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + path


_venv_bin_first()


@pytest.fixture(scope="session", autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    os.environ["ANSIBLE_LOCAL_TEMP"] = str(tmp_path_factory.mktemp("ansible-tmp"))
    os.environ.pop("CHIFFON_CONFIG", None)


def _pg_connect() -> psycopg.Connection[tuple[object, ...]] | None:
    try:
        return psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        return None


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade_database(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _pg_template() -> Iterator[str | None]:
    admin = _pg_connect()
    if admin is None:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (CHIFFON_REQUIRE_PG=1) but {PG_ADMIN} is down")
        yield None
        return
    name = f"chiffon_tpl_{os.getpid()}"
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')
    upgrade_database(_pg_url(name))
    yield name
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def _pg_url(database: str) -> str:
    base = PG_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1)
    return base.rsplit("/", 1)[0] + "/" + database


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    _sqlite_template: Path,
) -> Iterator[str]:
    if request.param == "sqlite":
        target = tmp_path / "chiffon.db"
        shutil.copyfile(_sqlite_template, target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    template = request.getfixturevalue("_pg_template")
    if template is None:
        pytest.skip("PostgreSQL is not reachable at " + PG_ADMIN)
    admin = _pg_connect()
    assert admin is not None
    name = f"chiffon_t_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield _pg_url(name)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def session_factory(engine: AsyncEngine) -> SessionFactory:
    return make_session_factory(engine)


@pytest.fixture
def sample_repo(tmp_path: Path) -> Path:
    """A private copy of tests/sample_repo that a test may change."""
    target = tmp_path / "repo"
    shutil.copytree(SAMPLE_REPO, target, symlinks=True)
    return target


@pytest.fixture
def settings(tmp_path: Path, db_url: str, sample_repo: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        playbooks_dir=sample_repo,
    )


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[object]:
    from chiffon.app import bootstrap

    services = bootstrap(settings)
    await services.start()
    yield services
    await services.stop()


def _is_pg(nodeid: str) -> bool:
    return "[" in nodeid and "postgresql" in nodeid.split("[", 1)[1]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    global _pg_passed
    if report.when == "call" and report.passed and _is_pg(report.nodeid):
        _pg_passed += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    collected_pg = any(_is_pg(item.nodeid) for item in session.items)
    if REQUIRE_PG and collected_pg and _pg_passed == 0 and exitstatus == 0:
        sys.stderr.write("\nCHIFFON_REQUIRE_PG=1 but no PostgreSQL test passed.\n")
        session.exitstatus = 1
