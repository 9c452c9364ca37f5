"""The one module that owns the database engine and sessions.

Models of every feature package derive from :class:`Base`; schema changes go through Alembic
(``migrations/``). Sessions are short-lived: ``with session_scope() as session: ...``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast

from sqlalchemy import Connection, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Result, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from griddesk.private import make_private_dir, make_private_file, tighten_file
from griddesk.settings import get_settings

T = TypeVar("T")

# The largest value of an INTEGER column on every backend (PostgreSQL's is 32 bits; SQLite's 64): ids, versions and
# sequence numbers beyond it name nothing, and PostgreSQL refuses them as parameters ("integer out of range").
MAX_INTEGER = 2**31 - 1

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime()}


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed (its cursor's rowcount)."""
    return int(cast(CursorResult[Any], result).rowcount or 0)


def upsert_insert(connection: Connection) -> Callable[..., Any]:
    """``insert`` of the connection's dialect (PostgreSQL's or SQLite's), the one with ``on_conflict_do_update``:
    an atomic upsert on both backends."""
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # deleted and overwritten content is zeroed, not left in free pages (encryption at rest: a value stored
    # in clear before it was encrypted, a deleted row)
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _private_sqlite_files(database: Path) -> None:
    """The database file 0600 before SQLite first opens it: SQLite gives its -wal and -shm files the
    database file's mode. Files left readable by an earlier version are tightened."""
    make_private_dir(database.parent)
    make_private_file(database)
    for suffix in ("-wal", "-shm", "-journal"):
        tighten_file(database.with_name(database.name + suffix))


def make_engine(url: str) -> Engine:
    """Create an engine; for SQLite, create the file (0600) and its folder (0700), set WAL + foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            _private_sqlite_files(Path(parsed.database))
        engine = create_engine(url, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _close_retired_connection(dbapi_connection: Any, _record: object) -> None:
    if dbapi_connection is not None:
        dbapi_connection.close()


_engine: Engine | None = None
_session_factory: sessionmaker[Session] | None = None
_engine_lock = threading.Lock()


def _current() -> tuple[Engine, sessionmaker[Session]]:
    """The process engine and its session factory, made on first use by one thread: two threads racing here would
    each make an engine, and the connections of the one that lost would never be closed."""
    global _engine, _session_factory
    with _engine_lock:
        if _engine is None or _session_factory is None:
            _engine = make_engine(get_settings().database_url)
            _session_factory = sessionmaker(_engine, expire_on_commit=False)
        return _engine, _session_factory


def get_engine() -> Engine:
    return _current()[0]


def reset_engine() -> None:
    """Dispose of the process engine (tests, or after changing GRIDDESK_DATABASE_URL)."""
    global _engine, _session_factory
    with _engine_lock:
        _retire(_engine)
        _engine = None
        _session_factory = None


def _retire(engine: Engine | None) -> None:
    if engine is not None:
        # A connection still checked out (work finishing in a thread) goes back to the retired pool later:
        # close it there, rather than leave it open until the pool is garbage-collected.
        event.listen(engine.pool, "checkin", _close_retired_connection)
        engine.dispose()


@contextmanager
def session_scope() -> Iterator[Session]:
    """A short-lived session that commits on success and rolls back on error."""
    session = _current()[1]()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


async def run_in_session(work: Callable[[Session], T]) -> T:
    """``work(session)`` in a worker thread, in one ``session_scope`` (committed on success): how the
    event-loop processes (gateway, action server) touch the database without blocking the loop."""
    return await asyncio.to_thread(_call_in_session, work)


def _call_in_session(work: Callable[[Session], T]) -> T:
    with session_scope() as session:
        return work(session)
