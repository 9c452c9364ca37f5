"""``python -m accounts``, run as an operator runs it: in a subprocess, the password on stdin."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select

from accounts.login import ACCOUNT_BUCKET, LOCKOUT, authenticate
from accounts.management import find_account
from accounts.sessions import resolve_session, start_session
from griddesk import ratelimit
from griddesk.db import session_scope, utcnow
from grids.models import Agent, GridMembership
from tests.accounts.conftest import PASSWORD, T0, make_staff


def run_cli(settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRIDDESK_DATA_DIR": str(settings.data_dir), "GRIDDESK_DATABASE_URL": settings.database_url}
    return subprocess.run(
        [sys.executable, "-m", "accounts", *args],
        input=stdin,
        capture_output=True,
        check=False,
        text=True,
        env=env,
        timeout=120,
    )


def test_create_makes_an_agent_in_its_grids_with_the_password_read_from_stdin(settings):
    result = run_cli(
        settings,
        "create",
        "zhang.wei",
        "--name",
        "张伟",
        "--role",
        "agent",
        "--grid",
        "cd-wuhou",
        "--grid",
        "billing",
        "--skill",
        "billing",
        "--skill",
        "fault",
        "--max-chats",
        "4",
        stdin=PASSWORD + "\n",
    )
    assert result.returncode == 0, result.stderr
    assert "已创建账号 zhang.wei" in result.stdout
    with session_scope() as session:
        account = authenticate(session, "zhang.wei", PASSWORD, T0)
        assert (account.display_name, account.role) == ("张伟", "agent")
        agent = session.get(Agent, account.id)
        assert (agent.skills, agent.max_chats) == (["billing", "fault"], 4)
        grids = set(session.scalars(select(GridMembership.grid_code).where(GridMembership.account_id == account.id)))
        assert grids == {"billing", "cd-wuhou"}


def test_create_refuses_a_short_password_and_writes_nothing(settings):
    result = run_cli(settings, "create", "zhang.wei", "--name", "张伟", "--role", "agent", stdin="short\n")
    assert result.returncode == 1
    assert "至少需要 10 个字符" in result.stderr
    with session_scope() as session:
        assert find_account(session, "zhang.wei") is None


def test_create_refuses_an_unknown_grid_and_a_taken_username(settings):
    result = run_cli(
        settings, "create", "zhang.wei", "--name", "张伟", "--role", "agent", "--grid", "mars", stdin=PASSWORD + "\n"
    )
    assert result.returncode == 1 and "未知网格：mars" in result.stderr
    with session_scope() as session:
        assert find_account(session, "zhang.wei") is None
        make_staff(session)
    result = run_cli(settings, "create", "zhang.wei", "--name", "张伟", "--role", "agent", stdin=PASSWORD + "\n")
    assert result.returncode == 1 and "已被使用" in result.stderr


def test_a_password_is_never_accepted_on_the_command_line(settings):
    result = run_cli(settings, "create", "zhang.wei", "--name", "张伟", "--role", "agent", "--password", PASSWORD)
    assert result.returncode == 2


def test_passwd_sets_a_new_password_and_ends_the_accounts_sessions(settings):
    with session_scope() as session:
        token, _ = start_session(session, make_staff(session), T0, 12)
    result = run_cli(settings, "passwd", "zhang.wei", stdin="a brand new password\n")
    assert result.returncode == 0, result.stderr
    with session_scope() as session:
        assert authenticate(session, "zhang.wei", "a brand new password", T0)
        assert resolve_session(session, token, T0, 12) is None


def test_passwd_of_an_unknown_account_fails_before_asking(settings):
    result = run_cli(settings, "passwd", "nobody", stdin="")
    assert result.returncode == 1 and "找不到账号 nobody" in result.stderr


def test_disable_stops_logins_and_list_shows_it(settings):
    with session_scope() as session:
        make_staff(session)
        make_staff(session, "wang.min", display_name="王敏")
    assert run_cli(settings, "disable", "zhang.wei").returncode == 0
    with session_scope() as session:
        assert find_account(session, "zhang.wei").active is False
    listing = run_cli(settings, "list")
    assert listing.returncode == 0
    lines = {line.split()[0]: line for line in listing.stdout.splitlines() if line.strip()}
    assert "已停用" in lines["zhang.wei"] and "启用" in lines["wang.min"] and "cd-wuhou" in lines["wang.min"]
    assert "共 2 个账号" in listing.stdout


def test_list_shows_a_username_locked_everywhere_and_passwd_lifts_the_lock(settings):
    with session_scope() as session:
        make_staff(session)
    check = (
        ratelimit.Limit(ACCOUNT_BUCKET, settings.rate.login_failures_per_account, int(LOCKOUT.total_seconds())),
        ratelimit.key_of("zhang.wei"),
    )
    for _ in range(settings.rate.login_failures_per_account):
        ratelimit.add([check], utcnow())  # failed logins from many addresses
    assert "已锁定" in run_cli(settings, "list").stdout
    assert run_cli(settings, "passwd", "zhang.wei", stdin="a brand new password\n").returncode == 0
    listing = run_cli(settings, "list").stdout
    assert "已锁定" not in listing and "启用" in listing
