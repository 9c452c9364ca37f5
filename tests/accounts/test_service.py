"""Accounts service: account rules, login with lockout, sliding sessions, principals, first-start seed."""

from __future__ import annotations

import json
import stat
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from accounts import passwords
from accounts.models import Account, AccountSession, Role
from accounts.service import (
    STAFF_SEED_FILE,
    AccountLocked,
    InvalidAccountData,
    InvalidCredentials,
    UsernameTaken,
    WeakPassword,
    authenticate,
    create_account,
    disable_account,
    end_session,
    grids_of,
    principal_for,
    resolve_session,
    seed_staff,
    set_password,
    start_session,
    write_initial_passwords,
)
from griddesk.db import session_scope
from grids.models import Agent, AgentStatus, Grid, GridMembership
from grids.service import SEED_FILE as GRIDS_FILE
from tests.accounts.conftest import PASSWORD, T0, make_staff

HOURS = 12


# ---- accounts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["ab", "Zhang Wei", "张伟", "a" * 65, "bad/name", ""])
def test_usernames_outside_lowercase_letters_digits_dot_dash_underscore_3_to_64_are_refused(db, username):
    with pytest.raises(InvalidAccountData) as info:
        create_account(db, username, "张伟", Role.AGENT, PASSWORD)
    assert info.value.field == "username"


@pytest.mark.parametrize("name", ["", "   ", "名" * 65, "张\n伟"])
def test_display_names_must_have_1_to_64_printable_characters(db, name):
    with pytest.raises(InvalidAccountData) as info:
        create_account(db, "zhang.wei", name, Role.AGENT, PASSWORD)
    assert info.value.field == "display_name"


def test_a_password_shorter_than_10_characters_or_only_spaces_is_refused(db):
    with pytest.raises(WeakPassword, match="10"):
        create_account(db, "zhang.wei", "张伟", Role.AGENT, "123456789")
    with pytest.raises(WeakPassword):
        create_account(db, "zhang.wei", "张伟", Role.AGENT, " " * 12)
    assert db.scalar(select(func.count(Account.id))) == 0


def test_an_unknown_role_is_refused(db):
    with pytest.raises(InvalidAccountData) as info:
        create_account(db, "zhang.wei", "张伟", "boss", PASSWORD)
    assert info.value.field == "role"


def test_a_username_is_taken_only_once_whatever_its_case(db):
    make_staff(db)
    with pytest.raises(UsernameTaken):
        create_account(db, "Zhang.Wei", "另一个张伟", Role.AGENT, PASSWORD)


def test_the_password_is_stored_only_as_an_argon2id_hash(db):
    account = make_staff(db)
    assert account.password_hash.startswith("$argon2id$") and PASSWORD not in account.password_hash


# ---- login --------------------------------------------------------------------------------------


def test_the_right_password_logs_in_whatever_the_case_of_the_username(db):
    make_staff(db)
    assert authenticate(db, " Zhang.Wei ", PASSWORD, T0).username == "zhang.wei"


def test_unknown_user_wrong_password_disabled_and_passwordless_accounts_get_the_same_error_after_the_same_work(
        db, monkeypatch):
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
    for username, password in [("nobody", PASSWORD), ("zhang.wei", "wrong password!"),
                               ("li.na", PASSWORD), ("wang.fang", PASSWORD)]:
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


# ---- sessions -----------------------------------------------------------------------------------


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


# ---- principals ---------------------------------------------------------------------------------


def test_an_agent_serves_only_their_grids_and_manages_none(db):
    principal = principal_for(db, make_staff(db, grids=("billing", "cd-wuhou")))
    assert principal.grid_codes == ("billing", "cd-wuhou")
    assert principal.can_serve("billing") and not principal.can_serve("central")
    assert not principal.is_manager_of("billing")
    assert [g.code for g in grids_of(db, principal)] == ["billing", "cd-wuhou"]


def test_a_manager_manages_their_grid_only(db):
    principal = principal_for(db, make_staff(db, "wang.min", Role.MANAGER, display_name="王敏"))
    assert principal.is_manager_of("cd-wuhou") and not principal.is_manager_of("cd-city")
    assert principal.can_serve("cd-wuhou") and not principal.can_serve("cd-city")


def test_an_admin_sees_serves_and_manages_every_grid(db):
    principal = principal_for(db, make_staff(db, "admin", Role.ADMIN, grids=(), display_name="系统管理员"))
    every = tuple(sorted(db.scalars(select(Grid.code))))
    assert principal.grid_codes == every and len(every) == 7
    assert all(principal.can_serve(code) and principal.is_manager_of(code) for code in every)
    assert len(grids_of(db, principal)) == 7


# ---- first start --------------------------------------------------------------------------------


def test_seed_staff_creates_every_account_with_a_fresh_password_that_logs_in(db):
    records = json.loads(STAFF_SEED_FILE.read_text("utf-8"))
    pairs = seed_staff(db)
    db.commit()
    assert [u for u, _ in pairs] == [r["username"] for r in records]
    assert len({p for _, p in pairs}) == len(pairs) and all(len(p) >= 16 for _, p in pairs)
    for username, password in pairs[:3]:
        assert authenticate(db, username, password, T0).username == username
    assert "admin" in dict(pairs)


def test_seed_staff_gives_agents_and_managers_their_agent_row_and_grid(db):
    seed_staff(db)
    by_name = {a.username: a for a in db.scalars(select(Account))}
    agents = {a.account_id: a for a in db.scalars(select(Agent))}
    members: dict[str, set[str]] = {}
    for m in db.scalars(select(GridMembership)):
        members.setdefault(m.grid_code, set()).add(next(u for u, a in by_name.items() if a.id == m.account_id))
    assert by_name["admin"].role == Role.ADMIN and by_name["admin"].id not in agents
    for grid in json.loads(GRIDS_FILE.read_text("utf-8")):
        manager = next(a for a in by_name.values() if a.display_name == grid["manager"])
        assert manager.role == Role.MANAGER and manager.username in members[grid["code"]]
        assert agents[manager.id].max_chats == 2
        staff = [by_name[u] for u in members[grid["code"]] if by_name[u].role == Role.AGENT]
        assert len(staff) >= 2, grid["code"]
    for agent in agents.values():
        assert agent.status == AgentStatus.OFFLINE and agent.skills
    assert any(len([g for g, us in members.items() if u in us]) == 2 for u in by_name)


def test_seed_staff_does_nothing_once_any_account_exists(db):
    assert seed_staff(db)
    count = db.scalar(select(func.count(Account.id)))
    hashes = set(db.scalars(select(Account.password_hash)))
    assert seed_staff(db) == []
    assert db.scalar(select(func.count(Account.id))) == count
    assert set(db.scalars(select(Account.password_hash))) == hashes


def test_seed_staff_leaves_an_existing_installation_alone(db):
    make_staff(db)
    assert seed_staff(db) == []
    assert db.scalar(select(func.count(Account.id))) == 1


def test_initial_passwords_are_written_readable_by_the_owner_only(tmp_path):
    path = tmp_path / "var" / "initial-passwords.txt"
    write_initial_passwords(path, [("admin", "s3cret-one-xyz"), ("zhang.wei", "s3cret-two-xyz")])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text("utf-8")
    assert "admin\ts3cret-one-xyz" in text and "zhang.wei\ts3cret-two-xyz" in text
    path.chmod(0o644)
    write_initial_passwords(path, [("admin", "another-secret")])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and "s3cret-one" not in path.read_text("utf-8")
