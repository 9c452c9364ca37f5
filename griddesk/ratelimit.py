"""Counting events in the database: the store behind every rate limit (the limiter is ``griddesk.web.ratelimit``).

A :class:`Limit` allows ``limit`` events per ``window`` seconds for each key (an address, a conversation, a
username). Counts live in ``rate_counter``, one row per (bucket, key, fixed window), so every gateway process
counts in the same place. An event is allowed while

    count(this window) + count(previous window) × (share of the previous window still within the last ``window`` s)

stays within the limit: a sliding-window counter, so no burst at a window boundary doubles the limit. Each
row is incremented by one atomic upsert; rows are deleted once they are two windows old (:func:`purge`).
Keys are stored hashed (:func:`key_of`): the table never holds a customer's address or a username.

Every function here is blocking (call it through ``asyncio.to_thread`` from the event loop). :func:`take`
runs in a transaction of its own (it must be able to undo its counts); the others also accept the caller's
``connection`` (``session.connection()``) and then leave committing to the caller.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Connection, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from griddesk.db import Base, get_engine, rows_changed, upsert_insert


class RateCounter(Base):
    """How many events of one bucket and key fell in one fixed window."""

    __tablename__ = "rate_counter"

    bucket: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # hashed: see key_of
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # epoch seconds
    count: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)  # epoch seconds; useless afterwards


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` events per ``window`` seconds per key of ``bucket``; a limit of 0 allows everything."""

    bucket: str
    limit: int
    window: int


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds until one more event would be allowed (when not allowed)


ALLOWED = Verdict(True)
Check = tuple[Limit, str]  # a limit and the (hashed) key it counts


def key_of(*parts: str) -> str:
    """A fixed-length key for what is counted (an address, a sender id, a username), never the thing itself."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def take(checks: Sequence[Check], now: datetime) -> Verdict:
    """Count one event against every check if each allows it; if any refuses, count nothing anywhere."""
    active = _in_lock_order(checks)
    if not active:
        return ALLOWED
    moment = now.timestamp()
    waits: list[float] = []
    with get_engine().connect() as connection:
        transaction = connection.begin()
        try:
            for limit, key in active:
                current = _increment(connection, limit, key, moment)
                previous = _count(connection, limit, key, _start(limit, moment) - limit.window)
                if _estimate(limit, previous, current, moment) > limit.limit:
                    waits.append(_wait(limit, previous, current - 1, moment))
        except BaseException:
            transaction.rollback()
            raise
        if waits:
            transaction.rollback()
            return _refused(waits)
        transaction.commit()
    return ALLOWED


def _in_lock_order(checks: Sequence[Check]) -> list[Check]:
    """The checks that limit anything, in one order for every caller: each increment locks its counter row until
    the transaction ends, and two callers locking the same two rows in opposite orders would deadlock (PostgreSQL
    then aborts one of them)."""
    return sorted(((limit, key) for limit, key in checks if limit.limit > 0), key=lambda c: (c[0].bucket, c[1]))


@contextmanager
def _using(connection: Connection | None) -> Iterator[Connection]:
    """The caller's connection as it is, or one of our own in a transaction committed at the end."""
    if connection is not None:
        yield connection
        return
    with get_engine().begin() as own:
        yield own


def peek(checks: Sequence[Check], now: datetime, connection: Connection | None = None) -> Verdict:
    """Whether one more event would be allowed by every check; nothing is counted."""
    active = [(limit, key) for limit, key in checks if limit.limit > 0]
    if not active:
        return ALLOWED
    moment = now.timestamp()
    waits: list[float] = []
    with _using(connection) as connection:
        for limit, key in active:
            start = _start(limit, moment)
            current = _count(connection, limit, key, start)
            previous = _count(connection, limit, key, start - limit.window)
            if _estimate(limit, previous, current + 1, moment) > limit.limit:
                waits.append(_wait(limit, previous, current, moment))
    return _refused(waits) if waits else ALLOWED


def add(checks: Sequence[Check], now: datetime, connection: Connection | None = None) -> Verdict:
    """Count one event against every check whatever the counts, and say whether a next one would be allowed."""
    active = _in_lock_order(checks)
    moment = now.timestamp()
    waits: list[float] = []
    with _using(connection) as connection:
        for limit, key in active:
            current = _increment(connection, limit, key, moment)
            previous = _count(connection, limit, key, _start(limit, moment) - limit.window)
            if _estimate(limit, previous, current + 1, moment) > limit.limit:
                waits.append(_wait(limit, previous, current, moment))
    return _refused(waits) if waits else ALLOWED


def forget(bucket: str, key_prefix: str, connection: Connection | None = None) -> int:
    """Delete the counts of ``bucket`` whose key starts with ``key_prefix`` (hex: no LIKE wildcards)."""
    with _using(connection) as connection:
        result = connection.execute(
            delete(RateCounter).where(RateCounter.bucket == bucket, RateCounter.key.startswith(key_prefix))
        )
        return rows_changed(result)


def purge(now: datetime) -> int:
    """Delete the rows no limit can use any more (two windows old); how many."""
    with get_engine().begin() as connection:
        result = connection.execute(delete(RateCounter).where(RateCounter.expires_at <= int(now.timestamp())))
        return rows_changed(result)


# -- the arithmetic -------------------------------------------------------------------------------


def _start(limit: Limit, moment: float) -> int:
    return int(moment // limit.window) * limit.window


def _estimate(limit: Limit, previous: int, current: int, moment: float) -> float:
    """Events within the last ``window`` seconds, the previous window's counted by the share still inside it."""
    elapsed = moment - _start(limit, moment)
    return previous * (1 - elapsed / limit.window) + current


def _wait(limit: Limit, previous: int, current: int, moment: float) -> float:
    """Seconds from ``moment`` until one more event is allowed, with ``current`` counted in this window."""
    window, most = limit.window, limit.limit
    elapsed = moment - _start(limit, moment)
    if current + 1 <= most and previous > 0:
        # later in this window, as the previous window's share shrinks
        at = window * (1 - (most - current - 1) / previous)
        if at < window:
            return max(0.0, at - elapsed)
    # in the next window, where this window's count is the previous one
    at_next = window * (1 - (most - 1) / current) if current > 0 else 0.0
    return (window - elapsed) + max(0.0, at_next)


def _refused(waits: list[float]) -> Verdict:
    return Verdict(False, max(1, math.ceil(max(waits))))


def _increment(connection: Connection, limit: Limit, key: str, moment: float) -> int:
    """Add one to this window's count (one atomic upsert); the new count."""
    start = _start(limit, moment)
    insert = upsert_insert(connection)
    statement = (
        insert(RateCounter)
        .values(bucket=limit.bucket, key=key, window_start=start, count=1, expires_at=start + 2 * limit.window)
        .on_conflict_do_update(index_elements=["bucket", "key", "window_start"], set_={"count": RateCounter.count + 1})
        .returning(RateCounter.count)
    )
    return int(connection.execute(statement).scalar_one())


def _count(connection: Connection, limit: Limit, key: str, start: int) -> int:
    found = connection.scalar(
        select(RateCounter.count).where(
            RateCounter.bucket == limit.bucket, RateCounter.key == key, RateCounter.window_start == start
        )
    )
    return int(found or 0)
