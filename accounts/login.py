"""Logging in: checking a password, throttled after repeated failures.

Failures are counted in the rate counters (:mod:`griddesk.ratelimit`, so every gateway process sees them)
by the username as typed, normalised — whether or not such an account exists, so no answer and no timing
tells which usernames exist. Three counts, each over ``LOCKOUT`` (15 minutes, sliding):

- one username from one address: ``MAX_FAILED_LOGINS`` (5). The failure that reaches it already answers
  "too many" (``AccountLocked``, with the moment one more attempt is allowed) — the lock a person who keeps
  mistyping meets. It is bounded: attempts while locked are not counted, so it lasts until fewer than five
  failures fall within the last 15 minutes, never more than two windows after the last counted failure.
- one address, any usernames: ``GRIDDESK_RATE_LOGIN_FAILURES_PER_ADDRESS`` (guessing across accounts).
- one username from every address: ``GRIDDESK_RATE_LOGIN_FAILURES_PER_ACCOUNT`` (a distributed guess). It is
  higher than the first, so one address alone can lock nobody but itself out of an account.

A good login clears that username's failures from that address; a new password (``set_password``)
clears all of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy.orm import Session

from accounts.errors import AccountLocked, InvalidCredentials
from accounts.management import find_account, normalize_username
from accounts.models import Account
from accounts.passwords import dummy_verify, hash_password, needs_rehash, verify_password
from griddesk import ratelimit
from griddesk.ratelimit import Check, Limit, key_of
from griddesk.settings import RateLimits, get_settings

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MAX_USERNAME_CHARS = 256
_WINDOW = int(LOCKOUT.total_seconds())
PAIR_BUCKET = "login.account_address"
ACCOUNT_BUCKET = "login.account"


def login_checks(username: str, address: str, limits: RateLimits) -> list[Check]:
    """The failure counts a login attempt of ``username`` (normalised) from ``address`` is held to."""
    name = key_of(normalize_username(username))
    return [
        (Limit(PAIR_BUCKET, MAX_FAILED_LOGINS, _WINDOW), name + key_of(address)),
        (Limit("login.address", limits.login_failures_per_address, _WINDOW), key_of(address)),
        (Limit(ACCOUNT_BUCKET, limits.login_failures_per_account, _WINDOW), name),
    ]


def authenticate(
    session: Session,
    username: str,
    password: str,
    now: datetime,
    *,
    address: str = "unknown",
    limits: RateLimits | None = None,
) -> Account:
    """The account whose password this is, or ``InvalidCredentials`` / ``AccountLocked``.

    Unknown users, wrong passwords, disabled accounts and accounts without a password all raise the
    same ``InvalidCredentials`` after the same argon2 work, and count the same failures. A login over a
    failure count raises ``AccountLocked`` (until when one more attempt is allowed) without checking the
    password — even the right one. A failure is committed before raising, so the caller's rollback cannot
    erase it (the one exception to "the caller commits").
    """
    username = username[:MAX_USERNAME_CHARS]
    checks = login_checks(username, address, limits or get_settings().rate)
    verdict = ratelimit.peek(checks, now, session.connection())
    if not verdict.allowed:
        raise AccountLocked(now + timedelta(seconds=verdict.retry_after))
    account = find_account(session, username)
    if account is None or not account.active or account.password_hash is None:
        dummy_verify(password)
        _failed(session, checks, now)
    elif not verify_password(account.password_hash, password):
        _failed(session, checks, now)
    ratelimit.forget(PAIR_BUCKET, checks[0][1], session.connection())
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    session.flush()
    return account


def _failed(session: Session, checks: list[Check], now: datetime) -> NoReturn:
    verdict = ratelimit.add(checks, now, session.connection())
    session.commit()
    if not verdict.allowed:
        raise AccountLocked(now + timedelta(seconds=verdict.retry_after))
    raise InvalidCredentials()


def forget_failures(username: str) -> int:
    """Clear every failure count of ``username`` (after an administrator sets a new password)."""
    name = key_of(normalize_username(username))
    return ratelimit.forget(PAIR_BUCKET, name) + ratelimit.forget(ACCOUNT_BUCKET, name)


def locked_everywhere(username: str, now: datetime, limits: RateLimits | None = None) -> bool:
    """Whether ``username`` is over the count of failures from every address (``python -m accounts list``)."""
    rate = limits or get_settings().rate
    check = (Limit(ACCOUNT_BUCKET, rate.login_failures_per_account, _WINDOW), key_of(normalize_username(username)))
    return not ratelimit.peek([check], now).allowed
