"""Login sessions: a random token per login (only its SHA-256 is stored), sliding expiry, logout.

Functions take a SQLAlchemy session and never commit. An agent's availability follows their logins
(``grids.agent_status.follow_login``): online with the first live login, offline when the last one
ends. Whatever ends logins (logout, a disabled
account, a new password, an expired login found) is told, after the commit, to the listeners of
``on_sessions_ended`` in this process (the gateway turns it into live news for open consoles).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from accounts.models import Account, AccountSession
from accounts.principals import Principal, principal_for
from griddesk.db import rows_changed, utcnow
from griddesk.settings import get_settings
from grids.agent_status import follow_login, lock_agent

SESSION_MAX_AGE = timedelta(days=7)
# A session's last_seen_at is written at most this often (saves a write per request).
SEEN_GRANULARITY = timedelta(seconds=60)
MAX_TOKEN_CHARS = 128


log = logging.getLogger(__name__)
_ENDED = "accounts.sessions_ended"  # Session.info key: ids of the accounts whose logins this transaction ended
_listeners: list[Callable[[int], None]] = []


def on_sessions_ended(listener: Callable[[int], None]) -> Callable[[], None]:
    """Call ``listener(account_id)`` after each commit, in this process, that ended logins of that
    account; returns the function that stops it. Runs in the committing thread and must not block.
    Other processes (``python -m accounts``) are not heard: connections also re-check their login."""
    _listeners.append(listener)

    def stop() -> None:
        if listener in _listeners:
            _listeners.remove(listener)

    return stop


def _ended(session: Session, account_id: int) -> None:
    session.info.setdefault(_ENDED, set()).add(account_id)
    now = utcnow()
    if not _live_logins(session, account_id, now):
        follow_login(session, account_id, logged_in=False, now=now)


def _live_logins(session: Session, account_id: int, now: datetime) -> int:
    """How many logins of the account have not expired (ended ones are deleted)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(AccountSession)
            .where(AccountSession.account_id == account_id, AccountSession.expires_at > now)
        )
        or 0
    )


@event.listens_for(Session, "after_commit")
def _tell_listeners(session: Session) -> None:
    ended: set[int] = session.info.pop(_ENDED, set())
    for account_id in sorted(ended):
        for listener in tuple(_listeners):
            try:
                listener(account_id)
            except Exception:  # the commit happened; a listener's failure must not undo the caller
                log.exception("a listener of ended logins failed")


@event.listens_for(Session, "after_rollback")
def _forget_ended(session: Session) -> None:
    session.info.pop(_ENDED, None)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, account: Account, now: datetime, hours: float) -> tuple[str, str]:
    """A new login of ``account``: returns ``(token, csrf_token)``; only the token's SHA-256 is stored."""
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    lock_agent(session, account.id)  # before counting the logins: the queue sweep counts them under this lock too
    if not _live_logins(session, account.id, now):  # the first login: the agent is available
        follow_login(session, account.id, logged_in=True, now=now)
    session.add(
        AccountSession(
            token_hash=_token_hash(token),
            account_id=account.id,
            csrf_token=csrf_token,
            created_at=now,
            last_seen_at=now,
            expires_at=min(now + timedelta(hours=hours), now + SESSION_MAX_AGE),
        )
    )
    session.flush()
    return token, csrf_token


def _live(session: Session, token: str, now: datetime) -> tuple[AccountSession, Account] | None:
    """The login of ``token`` and its account while it lasts; an ended one (expired, too old, a
    disabled or deleted account) is deleted and None returned."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    row = session.get(AccountSession, _token_hash(token))
    if row is None:
        return None
    account = session.get(Account, row.account_id)
    if account is None or not account.active or now >= row.expires_at or now >= row.created_at + SESSION_MAX_AGE:
        session.delete(row)
        session.flush()
        _ended(session, row.account_id)
        return None
    return row, account


def resolve_session(
    session: Session, token: str, now: datetime, hours: float | None = None
) -> tuple[Principal, str] | None:
    """The ``(principal, csrf_token)`` of a live session, or None.

    Sliding expiry: each use moves the end to ``now + hours`` (default: settings.session_hours),
    never past ``SESSION_MAX_AGE`` after the login. Expired sessions and sessions of disabled
    accounts are deleted.
    """
    live = _live(session, token, now)
    if live is None:
        return None
    row, account = live
    if hours is None:
        hours = get_settings().session_hours
    if now - row.last_seen_at >= SEEN_GRANULARITY:
        row.last_seen_at = now
        row.expires_at = min(now + timedelta(hours=hours), row.created_at + SESSION_MAX_AGE)
        session.flush()
    return principal_for(session, account), row.csrf_token


def check_session(session: Session, token: str, now: datetime) -> Principal | None:
    """The principal of a live session, or None, without counting as a use (its end does not move):
    how an open connection re-checks the login it was opened with."""
    live = _live(session, token, now)
    return principal_for(session, live[1]) if live is not None else None


def end_session(session: Session, token: str) -> bool:
    """Log out: the token stops working. Returns whether there was such a session."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return False
    token_hash = _token_hash(token)
    account_id = session.scalar(select(AccountSession.account_id).where(AccountSession.token_hash == token_hash))
    if account_id is None:
        return False
    result = session.execute(delete(AccountSession).where(AccountSession.token_hash == token_hash))
    _ended(session, account_id)
    return bool(rows_changed(result))


def end_all_sessions(session: Session, account: Account) -> int:
    ended = rows_changed(session.execute(delete(AccountSession).where(AccountSession.account_id == account.id)))
    if ended:
        _ended(session, account.id)
    return ended


def purge_expired_sessions(session: Session, now: datetime) -> int:
    """Delete sessions past their end (housekeeping; expired ones never resolve anyway)."""
    result = session.execute(delete(AccountSession).where(AccountSession.expires_at <= now))
    return rows_changed(result)
