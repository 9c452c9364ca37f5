"""Login sessions: a random token per login (only its SHA-256 is stored), sliding expiry, logout.

Functions take a SQLAlchemy session and never commit.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from accounts.models import Account, AccountSession
from accounts.principals import Principal, principal_for
from griddesk.db import rows_changed
from griddesk.settings import get_settings

SESSION_MAX_AGE = timedelta(days=7)
# A session's last_seen_at is written at most this often (saves a write per request).
SEEN_GRANULARITY = timedelta(seconds=60)
MAX_TOKEN_CHARS = 128


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, account: Account, now: datetime, hours: float) -> tuple[str, str]:
    """A new login of ``account``: returns ``(token, csrf_token)``; only the token's SHA-256 is stored."""
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
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


def resolve_session(
    session: Session, token: str, now: datetime, hours: float | None = None
) -> tuple[Principal, str] | None:
    """The ``(principal, csrf_token)`` of a live session, or None.

    Sliding expiry: each use moves the end to ``now + hours`` (default: settings.session_hours),
    never past ``SESSION_MAX_AGE`` after the login. Expired sessions and sessions of disabled
    accounts are deleted.
    """
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    row = session.get(AccountSession, _token_hash(token))
    if row is None:
        return None
    account = session.get(Account, row.account_id)
    deadline = row.created_at + SESSION_MAX_AGE
    if account is None or not account.active or now >= row.expires_at or now >= deadline:
        session.delete(row)
        session.flush()
        return None
    if hours is None:
        hours = get_settings().session_hours
    if now - row.last_seen_at >= SEEN_GRANULARITY:
        row.last_seen_at = now
        row.expires_at = min(now + timedelta(hours=hours), deadline)
        session.flush()
    return principal_for(session, account), row.csrf_token


def end_session(session: Session, token: str) -> bool:
    """Log out: the token stops working. Returns whether there was such a session."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return False
    result = session.execute(delete(AccountSession).where(AccountSession.token_hash == _token_hash(token)))
    return bool(rows_changed(result))


def end_all_sessions(session: Session, account: Account) -> int:
    result = session.execute(delete(AccountSession).where(AccountSession.account_id == account.id))
    return rows_changed(result)


def purge_expired_sessions(session: Session, now: datetime) -> int:
    """Delete sessions past their end (housekeeping; expired ones never resolve anyway)."""
    result = session.execute(delete(AccountSession).where(AccountSession.expires_at <= now))
    return rows_changed(result)
