"""Login: one error for every failure, lockout after repeated failures, rehashing old hashes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from accounts import passwords
from accounts.errors import AccountLocked, InvalidCredentials
from accounts.login import authenticate
from accounts.management import disable_account
from griddesk.db import session_scope
from tests.accounts.conftest import PASSWORD, T0, make_staff


def test_the_right_password_logs_in_whatever_the_case_of_the_username(db):
    make_staff(db)
    assert authenticate(db, " Zhang.Wei ", PASSWORD, T0).username == "zhang.wei"


def test_unknown_user_wrong_password_disabled_and_passwordless_accounts_get_the_same_error_after_the_same_work(
    db, monkeypatch
):
    make_staff(db)
    make_staff(db, "li.na", display_name="李娜", password=None)
    disabled = make_staff(db, "wang.fang", display_name="王芳")
    disable_account(db, disabled)
    db.commit()
    real = passwords._hasher()
    verifications = []

    class Counting:
        def verify(self, stored, password):
            verifications.append(stored)
            return real.verify(stored, password)

        def hash(self, password):
            return real.hash(password)

        def check_needs_rehash(self, stored):
            return real.check_needs_rehash(stored)

    monkeypatch.setattr(passwords, "_hasher", lambda: Counting())
    messages = []
    for username, password in [
        ("nobody", PASSWORD),
        ("zhang.wei", "wrong password!"),
        ("li.na", PASSWORD),
        ("wang.fang", PASSWORD),
    ]:
        before = len(verifications)
        with pytest.raises(InvalidCredentials) as info:
            authenticate(db, username, password, T0)
        messages.append(str(info.value))
        assert len(verifications) == before + 1, username
    assert set(messages) == {"用户名或密码错误"}


def test_five_failures_in_a_row_lock_the_account_for_15_minutes_even_against_the_right_password(db):
    make_staff(db)
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            authenticate(db, "zhang.wei", "wrong password!", T0)
    with pytest.raises(AccountLocked) as info:
        authenticate(db, "zhang.wei", "wrong password!", T0)
    assert info.value.until == T0 + timedelta(minutes=15)
    with pytest.raises(AccountLocked):
        authenticate(db, "zhang.wei", PASSWORD, T0 + timedelta(minutes=14, seconds=59))
    assert authenticate(db, "zhang.wei", PASSWORD, T0 + timedelta(minutes=15)).locked_until is None


def test_a_good_login_resets_the_failure_count(db):
    make_staff(db)
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            authenticate(db, "zhang.wei", "wrong password!", T0)
    authenticate(db, "zhang.wei", PASSWORD, T0)
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            authenticate(db, "zhang.wei", "wrong password!", T0)


def test_failures_are_kept_even_when_the_callers_transaction_rolls_back(settings, fast_hashing):
    with session_scope() as session:
        make_staff(session)
    for _ in range(5):
        with pytest.raises((InvalidCredentials, AccountLocked)), session_scope() as session:
            authenticate(session, "zhang.wei", "wrong password!", T0)
    with session_scope() as session, pytest.raises(AccountLocked):
        authenticate(session, "zhang.wei", PASSWORD, T0 + timedelta(minutes=1))


def test_a_login_rehashes_a_password_stored_with_older_costs(db):
    account = make_staff(db)
    account.password_hash = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(PASSWORD)
    db.commit()
    authenticate(db, "zhang.wei", PASSWORD, T0)
    assert "m=1024,t=1,p=1" in account.password_hash  # the (test) hasher's current costs
    assert passwords.verify_password(account.password_hash, PASSWORD)
