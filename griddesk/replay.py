"""Replay guards: an id a messaging platform sends (a Telegram update id, a WeCom MsgId) is acted on once.

``replay_claim`` holds one row per (scope, id) taken, until it expires. :func:`claim` inserts the row — or takes
an expired one over — in one atomic upsert, so of two gateway processes receiving the same id (a platform's
retry that the load balancer sends to the other replica) exactly one gets it; :func:`release` forgets an id
whose handling failed, so the platform's redelivery is taken again. Rows are deleted once expired
(:func:`purge`, run by the gateway's periodic ``replay guard purge``).

The guards live in the database rather than Redis: they must hold with one process or many, with or without
``GRIDDESK_REDIS_URL``, and across restarts of the gateways and of Redis (which keeps nothing on disk here).
One short insert per incoming platform message costs about what recording the message does.

Every function here is blocking (call it through ``asyncio.to_thread`` from the event loop).
"""

from __future__ import annotations

import hashlib
import time

from sqlalchemy import Float, String, delete
from sqlalchemy.orm import Mapped, mapped_column

from griddesk.db import Base, get_engine, rows_changed, upsert_insert

KEY_CHARS = 128


class ReplayClaim(Base):
    """One platform id taken, and until when a second arrival of it is a replay."""

    __tablename__ = "replay_claim"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)  # telegram, wecom
    key: Mapped[str] = mapped_column(String(KEY_CHARS), primary_key=True)
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # epoch seconds


def _stored(key: str) -> str:
    """The key as stored: itself, or its hash when it is longer than the column (platform ids are short)."""
    return key if len(key) <= KEY_CHARS else hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def claim(scope: str, key: str, seconds: float, now: float | None = None) -> bool:
    """True the first time ``key`` arrives in ``scope`` within ``seconds`` (and remember it); False for a replay."""
    moment = time.time() if now is None else now
    key = _stored(key)
    with get_engine().begin() as connection:
        insert = upsert_insert(connection)
        values = insert(ReplayClaim).values(scope=scope, key=key, expires_at=moment + seconds)
        statement = values.on_conflict_do_update(
            index_elements=["scope", "key"],
            set_={"expires_at": values.excluded.expires_at},
            where=ReplayClaim.expires_at < moment,
        ).returning(ReplayClaim.key)
        return connection.execute(statement).scalar() is not None


def release(scope: str, key: str) -> None:
    """Forget ``key`` (its handling failed): the platform's redelivery is taken again."""
    with get_engine().begin() as connection:
        connection.execute(delete(ReplayClaim).where(ReplayClaim.scope == scope, ReplayClaim.key == _stored(key)))


def purge(now: float | None = None) -> int:
    """Delete the expired claims; how many."""
    moment = time.time() if now is None else now
    with get_engine().begin() as connection:
        return rows_changed(connection.execute(delete(ReplayClaim).where(ReplayClaim.expires_at < moment)))
