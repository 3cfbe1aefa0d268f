"""Connections: one SQLAlchemy engine per database URL, tuned per dialect."""

from __future__ import annotations

import fcntl
import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(url: str, **kwargs) -> Engine:
    """An engine for ``url``. SQLite gets WAL, foreign keys and a busy timeout so that
    several gunicorn workers can share one file; PostgreSQL gets a pre-ping pool.
    JSON columns are decoded by orjson: a page of results holds two JSON documents a
    row, and the standard library's decoder was the largest cost of reading one."""
    kwargs.setdefault("json_deserializer", orjson.loads)
    if url.startswith("sqlite"):
        database = url.split("///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:
            # A write transaction takes the write lock up front: in WAL mode a deferred
            # transaction that reads and then writes fails at once with "database is
            # locked" when another writer got in between, instead of waiting its turn.
            immediate = conn.get_execution_options().get("sqlite_immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        _disable_pysqlite_transactions(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    return create_engine(url, **kwargs)


def _disable_pysqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy's ``begin`` event issue BEGIN itself (the documented pysqlite recipe)."""

    @event.listens_for(engine, "connect", insert=True)
    def _no_implicit_begin(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None


@contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on any error.

    ``write=True`` marks a transaction that will write, so SQLite locks at BEGIN.
    """
    bind = engine.execution_options(sqlite_immediate=True) if write else engine
    with Session(bind, expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def read_scope(engine: Engine) -> Iterator[Connection]:
    """A connection for the reads of one request, each statement on its own.

    No transaction and no ORM: a request that reads a page needs neither, and skipping
    them saves the BEGIN and COMMIT round trips and the session's bookkeeping. Reads
    that must agree with each other belong in ``session_scope``.
    """
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision``. Serialised by a file lock for SQLite so
    that gunicorn workers starting together do not race each other."""
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        lock_path = Path(engine.url.database).with_suffix(".migrate.lock")
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            command.upgrade(alembic_config(engine), revision)
        return
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine, *, raise_if_unreachable: bool = False) -> str | None:
    """The schema revision of the database; None when it was never migrated.

    An unreachable database raises with ``raise_if_unreachable`` (readiness checks
    want to tell the two apart) and answers None otherwise.
    """
    try:
        connection = engine.connect()
    except Exception:
        if raise_if_unreachable:
            raise
        return None
    with connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:  # no version table yet means "not migrated"
            return None


@functools.cache
def head_revision() -> str:
    """The newest migration this code ships."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    return script.get_current_head()
