"""Database: declarative base, engines, sessions and migrations (SQLite or PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, create_engine, event, inspect, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

__all__ = [
    "MIGRATIONS_DIR",
    "Base",
    "DatabaseError",
    "SessionFactory",
    "UTCDateTime",
    "check_database",
    "make_engine",
    "make_session_factory",
    "safe_url",
    "upgrade_database",
    "utcnow",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# The newest migration's revision (a test checks it against Alembic's head): a database
# already there needs no Alembic at all, which keeps `chiffon run` quick to start.
SCHEMA_HEAD = "0012"

SessionFactory = async_sessionmaker[AsyncSession]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class DatabaseError(Exception):
    """The database cannot be used; the message says why and what to check."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _prepare_sqlite(url: URL) -> None:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _prepare_sqlite(parsed)
        engine = create_async_engine(parsed)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(parsed, pool_size=10, max_overflow=20, pool_pre_ping=True)


def make_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)


def _sync_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _prepare_sqlite(parsed)
        engine = create_engine(parsed.set(drivername="sqlite"))
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(parsed)


def check_database(url: str) -> None:
    """Connect once; raise ``DatabaseError`` with the reason when that fails."""
    engine = _sync_engine(url)
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as error:
        raise _connect_error(url, error) from None
    finally:
        engine.dispose()


def _connect_error(url: str, error: SQLAlchemyError) -> DatabaseError:
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    return DatabaseError(
        f"cannot connect to the database {safe_url(url)}: {reason}. "
        "Check CHIFFON_DATABASE_URL (or unset it to use the embedded SQLite file)."
    )


def _current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade_database(url: str, revision: str = "head") -> None:
    """Apply the Alembic migrations up to ``revision`` (blocking; call before the loop starts).

    Raises ``DatabaseError`` when the database cannot be reached.
    """
    engine = _sync_engine(url)
    try:
        current = _current_revision(engine)
    except SQLAlchemyError as error:
        raise _connect_error(url, error) from None
    finally:
        engine.dispose()
    if current == SCHEMA_HEAD and revision == "head":
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = _sync_engine(url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()
