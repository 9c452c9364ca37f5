"""Leases: which gateway process runs a job that must run once across replicas (the queue sweep, the relay, …).

A lease is one row of ``job_lease`` per job name: its holder and the moment it expires. A process takes the
lease when nobody holds it, when it holds it already (renewal) or when the holder's lease has expired — one
atomic upsert on SQLite and PostgreSQL alike, so of several processes asking at once exactly one gets it. A
holder renews it well before it expires; a holder that stops gives it back (:func:`release`), so another process
takes over at its next try, and a holder that crashed loses it when it expires. Times are epoch seconds of the
callers' clocks: the replicas of one deployment share a clock (one machine, or NTP), and the renewal margin
(:class:`Lease` renews after a third of the lease) absorbs small differences.

The database, not Redis, holds leases: it is the one store every deployment has (a single process too), and a
lease held in it outlives a Redis restart.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid

from sqlalchemy import Connection, Engine, Float, String, delete
from sqlalchemy.orm import Mapped, mapped_column

from griddesk.db import Base, get_engine, upsert_insert

log = logging.getLogger(__name__)


class JobLease(Base):
    """Who runs one job until when."""

    __tablename__ = "job_lease"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[float] = mapped_column(Float)  # epoch seconds


def holder_id() -> str:
    """A name for one holder: host, process and a random part (two apps in one process differ)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _upsert(connection: Connection, name: str, holder: str, now: float, seconds: float) -> bool:
    insert = upsert_insert(connection)
    values = insert(JobLease).values(name=name, holder=holder, expires_at=now + seconds)
    statement = values.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": values.excluded.holder, "expires_at": values.excluded.expires_at},
        where=(JobLease.holder == holder) | (JobLease.expires_at < now),
    ).returning(JobLease.holder)
    return connection.execute(statement).scalar() == holder


def acquire(name: str, holder: str, seconds: float, now: float | None = None, engine: Engine | None = None) -> bool:
    """Take or renew the lease ``name`` for ``seconds`` from ``now`` (epoch seconds); False if another holds it.

    Blocking: call it through ``asyncio.to_thread`` from the event loop."""
    with (engine or get_engine()).begin() as connection:
        return _upsert(connection, name, holder, time.time() if now is None else now, seconds)


def release(name: str, holder: str, engine: Engine | None = None) -> None:
    """Give the lease back if ``holder`` has it (nothing otherwise), so another process takes it at once."""
    with (engine or get_engine()).begin() as connection:
        connection.execute(delete(JobLease).where(JobLease.name == name, JobLease.holder == holder))


class Lease:
    """One process's claim on the job ``name``: :meth:`held` says whether it may run the job now.

    It asks the database at most every third of ``seconds`` while it holds the lease (a relay pass or a sweep
    every second costs no write each time), and at every call while another process holds it."""

    def __init__(self, name: str, seconds: float) -> None:
        self.name = name
        self.seconds = seconds
        self.holder = holder_id()
        self._trusted_until = 0.0  # monotonic: until then we hold it without asking
        self._held = False
        self._engine: Engine | None = None  # the database it was taken in, where it is given back

    async def held(self) -> bool:
        now = time.monotonic()
        if now < self._trusted_until:
            return True
        try:
            self._engine = self._engine or get_engine()
            held = await asyncio.to_thread(acquire, self.name, self.holder, self.seconds, engine=self._engine)
        except Exception:
            log.exception("lease %r could not be checked; not running the job this time", self.name)
            held = False
        if held and not self._held:
            log.info("lease %r taken by %s", self.name, self.holder)
        elif self._held and not held:
            log.warning("lease %r lost by %s: another process runs the job now", self.name, self.holder)
        self._held = held
        self._trusted_until = now + self.seconds / 3 if held else 0.0
        return held

    async def release(self) -> None:
        """Give the lease back (when the process stops); safe to call when it is not held."""
        self._trusted_until = 0.0
        if not self._held:
            return
        self._held = False
        try:
            await asyncio.to_thread(release, self.name, self.holder, self._engine)
        except Exception:
            log.exception("lease %r could not be given back; it expires by itself", self.name)
