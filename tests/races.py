"""Racing real database connections: threads released together, each with its own connection (its own session,
its own transaction), on whichever backend the suite runs (``tests/database.py``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import text

from griddesk.db import get_engine

T = TypeVar("T")
JOIN_SECONDS = 60  # a bound, never a measurement: a thread still running then is a deadlock, and fails the test


def race(workers: list[Callable[[], T]]) -> list[T | BaseException]:
    """Run every worker in its own thread, all released at once; what each returned or raised, in order."""
    barrier = threading.Barrier(len(workers))
    outcomes: list[T | BaseException | None] = [None] * len(workers)

    def run(index: int, work: Callable[[], T]) -> None:
        barrier.wait()
        try:
            outcomes[index] = work()
        except BaseException as exc:  # the outcome under test (a domain error) or a failure to report
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i, work)) for i, work in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_SECONDS)
        assert not thread.is_alive(), "a racing thread never finished (deadlock?)"
    return outcomes  # type: ignore[return-value]


def blocked_or_done(thread: threading.Thread) -> None:
    """Wait until ``thread`` has finished or, on PostgreSQL, some connection waits for a lock held by another
    (SQLite's writers queue on one database lock anyway: nothing to wait for)."""
    engine = get_engine()
    if engine.dialect.name != "postgresql":
        return
    deadline = time.monotonic() + JOIN_SECONDS
    with engine.connect() as connection:
        while thread.is_alive() and time.monotonic() < deadline:
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                )
            ).scalar()
            connection.rollback()  # a fresh snapshot of the activity view on the next look
            if waiting:
                return
            time.sleep(0.01)
