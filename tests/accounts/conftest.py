"""Fixtures of the accounts tests: cheap argon2 parameters (the real ones are tested in test_passwords)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from accounts import passwords
from accounts.management import create_account, join_grids, make_agent
from accounts.models import Account, Role
from griddesk.db import session_scope

PASSWORD = "correct horse battery"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with tiny costs, so tests that log in many times stay fast."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", lambda: cheap)
    monkeypatch.setattr(passwords, "_dummy_hash", lambda: cheap.hash("dummy-password"))


@pytest.fixture
def db(settings, fast_hashing) -> Iterator[Session]:
    """A session on the test database, committed at the end of the test."""
    with session_scope() as session:
        yield session


def make_staff(
    session: Session,
    username: str = "zhang.wei",
    role: Role = Role.AGENT,
    grids: tuple[str, ...] = ("cd-wuhou",),
    password: str | None = PASSWORD,
    display_name: str = "张伟",
) -> Account:
    account = create_account(session, username, display_name, role, password)
    if role is not Role.ADMIN:
        make_agent(session, account, ["billing"], 3)
    join_grids(session, account, grids)
    session.commit()
    return account
