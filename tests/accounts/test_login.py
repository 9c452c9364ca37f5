"""Login: one error for every failure, throttling after repeated failures (per username and address, per
address, per username) that never tells which usernames exist, rehashing old hashes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from accounts import passwords
from accounts.errors import AccountLocked, InvalidCredentials
from accounts.login import MAX_FAILED_LOGINS, authenticate, forget_failures, locked_everywhere
from accounts.management import disable_account
from griddesk.db import session_scope
from griddesk.settings import RateLimits
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


def test_the_fifth_failure_locks_until_a_time_it_names_even_against_the_right_password(db):
    make_staff(db)
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            authenticate(db, "zhang.wei", "wrong password!", T0)
    with pytest.raises(AccountLocked) as info:
        authenticate(db, "zhang.wei", "wrong password!", T0)
    until = info.value.until
    # until fewer than five failures fall within the last 15 minutes (a sliding window): at most two windows
    assert T0 < until <= T0 + timedelta(minutes=30)
    with pytest.raises(AccountLocked):
        authenticate(db, "zhang.wei", PASSWORD, until - timedelta(seconds=1))
    assert authenticate(db, "zhang.wei", PASSWORD, until).username == "zhang.wei"


def test_attempts_while_locked_do_not_make_the_lock_longer(db):
    make_staff(db)
    for _ in range(MAX_FAILED_LOGINS - 1):
        with pytest.raises(InvalidCredentials):
            authenticate(db, "zhang.wei", "wrong password!", T0)
    with pytest.raises(AccountLocked) as info:
        authenticate(db, "zhang.wei", "wrong password!", T0)
    until = info.value.until
    moment = T0
    while moment < until - timedelta(seconds=30):
        moment += timedelta(seconds=30)
        with pytest.raises(AccountLocked) as again:
            authenticate(db, "zhang.wei", "guess " + moment.isoformat(), min(moment, until - timedelta(seconds=1)))
        assert again.value.until == until
    assert authenticate(db, "zhang.wei", PASSWORD, until).username == "zhang.wei"


def test_unknown_usernames_are_locked_exactly_like_known_ones(db):
    make_staff(db)
    answers = {}
    for username in ("zhang.wei", "nobody"):
        seen = []
        for _ in range(MAX_FAILED_LOGINS + 1):
            try:
                authenticate(db, username, "wrong password!", T0, address="203.0.113.5")
            except (InvalidCredentials, AccountLocked) as exc:
                seen.append((type(exc).__name__, str(exc), getattr(exc, "until", None)))
        answers[username] = seen
    assert answers["zhang.wei"] == answers["nobody"]
    assert [kind for kind, _message, _until in answers["nobody"]] == ["InvalidCredentials"] * 4 + ["AccountLocked"] * 2


def test_a_lock_from_one_address_does_not_keep_the_real_user_out_from_another(db):
    make_staff(db)
    for _ in range(MAX_FAILED_LOGINS):
        with pytest.raises((InvalidCredentials, AccountLocked)):
            authenticate(db, "zhang.wei", "wrong password!", T0, address="203.0.113.66")
    with pytest.raises(AccountLocked):
        authenticate(db, "zhang.wei", PASSWORD, T0, address="203.0.113.66")
    assert authenticate(db, "zhang.wei", PASSWORD, T0, address="198.51.100.7").username == "zhang.wei"
    assert not locked_everywhere("zhang.wei", T0)


def test_one_address_guessing_across_usernames_is_throttled_whatever_the_usernames(db):
    make_staff(db)
    limits = RateLimits(login_failures_per_address=6)
    for n in range(5):
        with pytest.raises(InvalidCredentials):
            authenticate(db, f"user{n}", "guess", T0, address="203.0.113.66", limits=limits)
    with pytest.raises(AccountLocked):
        authenticate(db, "user5", "guess", T0, address="203.0.113.66", limits=limits)
    with pytest.raises(AccountLocked):  # even a real user's right password, from that address
        authenticate(db, "zhang.wei", PASSWORD, T0, address="203.0.113.66", limits=limits)
    assert authenticate(db, "zhang.wei", PASSWORD, T0, address="198.51.100.7", limits=limits)


def test_a_distributed_guess_locks_the_username_everywhere_for_a_bounded_time(db):
    make_staff(db)
    limits = RateLimits(login_failures_per_account=8)
    locked = None
    for n in range(8):
        try:
            authenticate(db, "zhang.wei", "guess", T0, address=f"203.0.113.{n}", limits=limits)
        except AccountLocked as exc:
            locked = exc
        except InvalidCredentials:
            pass
    assert locked is not None and locked.until <= T0 + timedelta(minutes=30)
    assert locked_everywhere("zhang.wei", T0, limits)
    with pytest.raises(AccountLocked):
        authenticate(db, "zhang.wei", PASSWORD, T0, address="198.51.100.7", limits=limits)
    assert authenticate(db, "zhang.wei", PASSWORD, locked.until, address="198.51.100.7", limits=limits)


def test_a_new_password_lifts_every_lock_of_the_username(db):
    make_staff(db)
    for _ in range(MAX_FAILED_LOGINS):
        with pytest.raises((InvalidCredentials, AccountLocked)):
            authenticate(db, "zhang.wei", "wrong password!", T0)
    assert forget_failures("Zhang.Wei") >= 1
    assert authenticate(db, "zhang.wei", PASSWORD, T0).username == "zhang.wei"


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
