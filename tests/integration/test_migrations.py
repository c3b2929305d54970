"""Migrations on SQLite and PostgreSQL: from empty, idempotent, down and up, and ORM == schema."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

from chiffon.db import MIGRATIONS_DIR, SCHEMA_HEAD, DatabaseError, upgrade_database
from chiffon.models import Base

TABLES = {
    "runs",
    "run_events",
    "catalog_entries",
    "audit_records",
    "plans",
    "plan_steps",
    "plan_changes",
    "alembic_version",
    "analyzer_lint_results",
    "analyzer_suggestions",
    "analyzer_diagnoses",
    "agents",
    "agent_heartbeats",
    "llm_usage",
    "users",
    "web_sessions",
    "api_tokens",
    "login_failures",
    "saved_drafts",
}
PG_ADMIN = os.environ.get("CHIFFON_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_PG = os.environ.get("CHIFFON_REQUIRE_PG") == "1"


def _foreign_keys_on(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def sync_engine(url: str) -> Engine:
    """A blocking engine on ``url`` (the async driver swapped for a sync one on SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed.set(drivername="sqlite"))
        event.listen(engine, "connect", _foreign_keys_on)
        return engine
    return create_engine(parsed)


def tables_and_revision(url: str) -> tuple[set[str], list[str]]:
    engine = sync_engine(url)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            revisions: list[str] = []
            if "alembic_version" in tables:
                rows = connection.execute(text("SELECT version_num FROM alembic_version"))
                revisions = [row[0] for row in rows]
            return tables, revisions
    finally:
        engine.dispose()


def alembic(url: str, action: str, revision: str) -> None:
    """Run ``alembic <action> <revision>`` on ``url`` the way chiffon.db hands a connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = sync_engine(url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            getattr(command, action)(config, revision)
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all (not the migrated template behind ``db_url``)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (CHIFFON_REQUIRE_PG=1) but {PG_ADMIN} is down")
        pytest.skip("PostgreSQL is not reachable at " + PG_ADMIN)
    name = f"chiffon_empty_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_it_upgrades_an_empty_database_and_again_without_change(empty_db_url: str) -> None:
    assert tables_and_revision(empty_db_url) == (set(), [])

    upgrade_database(empty_db_url)
    first = tables_and_revision(empty_db_url)
    upgrade_database(empty_db_url)

    assert first == (TABLES, [SCHEMA_HEAD])
    assert tables_and_revision(empty_db_url) == first


def test_it_creates_the_sqlite_file_and_its_directory(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "chiffon.db"

    upgrade_database(f"sqlite+aiosqlite:///{path}")

    assert path.is_file()
    assert tables_and_revision(f"sqlite+aiosqlite:///{path}") == (TABLES, [SCHEMA_HEAD])


def test_it_leaves_a_migrated_database_at_the_head(db_url: str) -> None:
    upgrade_database(db_url)

    assert tables_and_revision(db_url) == (TABLES, [SCHEMA_HEAD])


def test_it_names_alembics_single_head_as_the_schema_head() -> None:
    scripts = ScriptDirectory(str(MIGRATIONS_DIR))

    assert scripts.get_heads() == [SCHEMA_HEAD]
    assert scripts.get_current_head() == SCHEMA_HEAD


def test_it_downgrades_to_base_and_upgrades_again(db_url: str) -> None:
    alembic(db_url, "downgrade", "base")
    assert tables_and_revision(db_url) == ({"alembic_version"}, [])

    alembic(db_url, "upgrade", "head")
    assert tables_and_revision(db_url) == (TABLES, [SCHEMA_HEAD])


def test_it_keeps_the_orm_models_and_the_migrated_schema_in_step(db_url: str) -> None:
    engine = sync_engine(db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "render_as_batch": connection.dialect.name == "sqlite",
                },
            )
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()

    assert differences == []


def test_it_reports_a_database_it_cannot_reach_with_the_reason() -> None:
    url = "postgresql+psycopg://nobody:hunter22-pw@127.0.0.1:1/x"

    with pytest.raises(DatabaseError) as caught:
        upgrade_database(url)

    message = str(caught.value)
    assert "127.0.0.1" in message
    assert "refused" in message.lower()
    assert "CHIFFON_DATABASE_URL" in message
    assert "hunter22-pw" not in message
    assert "***" in message


def test_it_reports_a_sqlite_file_it_cannot_open(tmp_path: Path) -> None:
    # A directory where the database file should be: SQLite cannot open it.
    (tmp_path / "chiffon.db").mkdir()

    with pytest.raises(DatabaseError) as caught:
        upgrade_database(f"sqlite+aiosqlite:///{tmp_path / 'chiffon.db'}")

    assert "unable to open database file" in str(caught.value)
    assert "CHIFFON_DATABASE_URL" in str(caught.value)
