"""Logging in: checking a password, with a lockout after repeated failures.

A failed login commits its failure count before raising, so the caller's rollback cannot erase the
lockout (the one exception to "the caller commits").
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from accounts.errors import AccountLocked, InvalidCredentials
from accounts.management import find_account
from accounts.models import Account
from accounts.passwords import dummy_verify, hash_password, needs_rehash, verify_password

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


def authenticate(session: Session, username: str, password: str, now: datetime) -> Account:
    """The account whose password this is, or ``InvalidCredentials`` / ``AccountLocked``.

    Unknown users, wrong passwords, disabled accounts and accounts without a password all raise the
    same ``InvalidCredentials`` after the same argon2 work. The ``MAX_FAILED_LOGINS``-th failure in a
    row locks the account for ``LOCKOUT`` (raising ``AccountLocked``); while locked, even the right
    password is refused. Failures are committed before raising.
    """
    account = find_account(session, username) if len(username) <= 256 else None
    if account is None or not account.active or account.password_hash is None:
        dummy_verify(password)
        raise InvalidCredentials()
    if account.locked_until is not None and now < account.locked_until:
        dummy_verify(password)
        raise AccountLocked(account.locked_until)
    if not verify_password(account.password_hash, password):
        account.failed_logins += 1
        locked = account.failed_logins >= MAX_FAILED_LOGINS
        if locked:
            account.failed_logins = 0
            account.locked_until = now + LOCKOUT
        session.commit()
        if locked:
            raise AccountLocked(now + LOCKOUT)
        raise InvalidCredentials()
    account.failed_logins = 0
    account.locked_until = None
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    session.flush()
    return account
