"""Login sessions: hashed tokens, sliding expiry, the 7-day limit, logout and ending sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accounts.errors import InvalidCredentials
from accounts.login import authenticate
from accounts.management import disable_account, set_password
from accounts.models import AccountSession, Role
from accounts.sessions import check_session, end_session, on_sessions_ended, resolve_session, start_session
from tests.accounts.conftest import T0, make_staff

HOURS = 12


def test_a_session_stores_only_the_tokens_sha256_and_resolves_to_the_principal_and_csrf_token(db):
    account = make_staff(db)
    token, csrf = start_session(db, account, T0, HOURS)
    row = db.scalars(select(AccountSession)).one()
    assert row.token_hash != token and len(row.token_hash) == 64 and len(token) >= 43
    principal, csrf_again = resolve_session(db, token, T0 + timedelta(minutes=5), HOURS)
    assert csrf_again == csrf
    assert (principal.username, principal.role, principal.grid_codes) == ("zhang.wei", Role.AGENT, ("cd-wuhou",))
    assert resolve_session(db, token + "x", T0, HOURS) is None
    assert resolve_session(db, "", T0, HOURS) is None


def test_a_session_slides_with_use_and_ends_after_the_configured_hours_of_inactivity(db):
    account = make_staff(db)
    token, _ = start_session(db, account, T0, HOURS)
    assert resolve_session(db, token, T0 + timedelta(hours=11), HOURS) is not None
    assert resolve_session(db, token, T0 + timedelta(hours=22), HOURS) is not None  # 12 h after the last use
    assert resolve_session(db, token, T0 + timedelta(hours=34, minutes=1), HOURS) is None
    assert db.scalar(select(func.count()).select_from(AccountSession)) == 0


def test_a_session_ends_after_7_days_however_often_it_is_used(db):
    account = make_staff(db)
    token, _ = start_session(db, account, T0, HOURS)
    now = T0
    while now < T0 + timedelta(days=7) - timedelta(hours=10):
        now += timedelta(hours=10)
        assert resolve_session(db, token, now, HOURS) is not None
    assert resolve_session(db, token, T0 + timedelta(days=7), HOURS) is None


def test_a_session_takes_its_inactivity_hours_from_the_settings_by_default(db, monkeypatch):
    monkeypatch.setenv("GRIDDESK_SESSION_HOURS", "2")
    from griddesk.settings import get_settings

    get_settings.cache_clear()
    account = make_staff(db)
    token, _ = start_session(db, account, T0, 2)
    assert resolve_session(db, token, T0 + timedelta(hours=1)) is not None
    assert resolve_session(db, token, T0 + timedelta(hours=3, minutes=1)) is None


def test_end_session_logs_out_only_that_session(db):
    account = make_staff(db)
    first, _ = start_session(db, account, T0, HOURS)
    second, _ = start_session(db, account, T0, HOURS)
    assert end_session(db, first)
    assert resolve_session(db, first, T0, HOURS) is None
    assert resolve_session(db, second, T0, HOURS) is not None
    assert not end_session(db, first)


def test_a_new_password_or_disabling_the_account_ends_its_sessions(db):
    account = make_staff(db)
    token, _ = start_session(db, account, T0, HOURS)
    set_password(db, account, "another long password", now=T0)
    assert resolve_session(db, token, T0, HOURS) is None
    assert authenticate(db, "zhang.wei", "another long password", T0)
    token, _ = start_session(db, account, T0, HOURS)
    disable_account(db, account)
    assert resolve_session(db, token, T0, HOURS) is None
    with pytest.raises(InvalidCredentials):
        authenticate(db, "zhang.wei", "another long password", T0)


def test_a_session_of_an_account_disabled_elsewhere_stops_resolving(db):
    account = make_staff(db)
    token, _ = start_session(db, account, T0, HOURS)
    account.active = False
    db.commit()
    assert resolve_session(db, token, T0, HOURS) is None


def test_listeners_hear_whose_logins_ended_after_the_commit_and_nothing_after_a_rollback(settings, fast_hashing):
    from griddesk.db import session_scope

    heard: list[int] = []
    stop = on_sessions_ended(heard.append)
    try:
        with session_scope() as session:
            account = make_staff(session)
            token, _ = start_session(session, account, T0, HOURS)
            other, _ = start_session(session, account, T0, HOURS)
            session.commit()
            assert end_session(session, token) and heard == []  # not before the commit
        assert heard == [account.id]
        with pytest.raises(RuntimeError), session_scope() as session:
            end_session(session, other)
            raise RuntimeError("rolled back")
        assert heard == [account.id]
        with session_scope() as session:
            check = check_session(session, other, T0 + timedelta(minutes=5))
            assert check is not None and check.username == "zhang.wei"
            row = session.scalars(select(AccountSession)).one()
            assert row.last_seen_at == T0  # a check is not a use: the login's end does not move
            assert check_session(session, other, T0 + timedelta(hours=HOURS)) is None  # expired: deleted
        assert heard == [account.id, account.id]
    finally:
        stop()
    stop()  # twice is harmless
