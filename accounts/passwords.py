"""Password hashing with argon2id (argon2-cffi's RFC 9106 low-memory profile).

Hashes are self-describing (``$argon2id$v=19$m=…,t=…,p=…$salt$hash``), so changing the parameters
later only needs :func:`needs_rehash` at the next successful login.
"""

from __future__ import annotations

import contextlib
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# Long enough for any passphrase; short enough that hashing cannot be used to burn CPU.
MAX_PASSWORD_CHARS = 256
_DUMMY_PASSWORD = "griddesk-dummy-password"


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id, t=3, m=64 MiB, p=4


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash(_DUMMY_PASSWORD)


def hash_password(password: str) -> str:
    """A new argon2id hash of ``password`` with a fresh random salt."""
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; a malformed hash never matches."""
    if len(password) > MAX_PASSWORD_CHARS:
        dummy_verify(password[:MAX_PASSWORD_CHARS])
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's (rehash it after a good login)."""
    try:
        return _hasher().check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


def dummy_verify(password: str) -> None:
    """Spend the time of a real verification, so an unknown user answers as slowly as a known one."""
    with contextlib.suppress(VerifyMismatchError, VerificationError, InvalidHashError):
        _hasher().verify(_dummy_hash(), password[:MAX_PASSWORD_CHARS])
