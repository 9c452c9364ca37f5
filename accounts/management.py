"""Managing staff accounts (no HTTP): the rules for usernames, names, roles, passwords and skills;
creating, finding and disabling accounts, setting passwords, the serving side and grid memberships.

Functions take a SQLAlchemy session and never commit. Errors are :mod:`accounts.errors`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.errors import AccountNotFound, InvalidAccountData, UsernameTaken, WeakPassword
from accounts.models import Account, Role
from accounts.passwords import MAX_PASSWORD_CHARS, hash_password
from accounts.sessions import end_all_sessions
from griddesk.db import utcnow
from grids.models import Agent, AgentStatus, Grid, GridMembership

USERNAME_PATTERN = re.compile(r"[a-z0-9._-]{3,64}")
SKILL_PATTERN = re.compile(r"[a-z0-9_-]{1,32}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_DISPLAY_NAME_CHARS = 64
MIN_PASSWORD_CHARS = 10
MAX_CHATS_LIMIT = 20


def normalize_username(username: str) -> str:
    return username.strip().lower()


def validate_username(username: str) -> str:
    name = normalize_username(username)
    if not USERNAME_PATTERN.fullmatch(name):
        raise InvalidAccountData("username", "用户名须为 3-64 个字符，只能包含小写字母、数字、点、下划线和连字符。")
    return name


def validate_display_name(display_name: str) -> str:
    name = display_name.strip()
    if not 1 <= len(name) <= MAX_DISPLAY_NAME_CHARS or _CONTROL.search(name):
        raise InvalidAccountData("display_name", f"姓名须为 1-{MAX_DISPLAY_NAME_CHARS} 个字符，且不能含控制字符。")
    return name


def validate_role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidAccountData("role", "角色须为 agent（客服）、manager（网格经理）或 admin（管理员）。") from None


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise WeakPassword(f"密码至少需要 {MIN_PASSWORD_CHARS} 个字符")
    if len(password) > MAX_PASSWORD_CHARS:
        raise WeakPassword(f"密码不能超过 {MAX_PASSWORD_CHARS} 个字符")
    if not password.strip():
        raise WeakPassword("密码不能只由空白字符组成")


def find_account(session: Session, username: str) -> Account | None:
    return session.scalar(select(Account).where(Account.username == normalize_username(username)))


def get_account(session: Session, username: str) -> Account:
    account = find_account(session, username)
    if account is None:
        raise AccountNotFound(username)
    return account


def list_accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.role, Account.username)))


def create_account(
    session: Session,
    username: str,
    display_name: str,
    role: Role | str,
    password: str | None = None,
    now: datetime | None = None,
) -> Account:
    """A new active account; without a password it cannot log in until :func:`set_password`."""
    name = validate_username(username)
    display = validate_display_name(display_name)
    checked_role = validate_role(role)
    if password is not None:
        check_password_policy(password)
    if find_account(session, name) is not None:
        raise UsernameTaken(name)
    account = Account(username=name, display_name=display, role=checked_role.value)
    if password is not None:
        account.password_hash = hash_password(password)
        account.password_changed_at = now or utcnow()
    session.add(account)
    session.flush()
    return account


def set_password(session: Session, account: Account, password: str, now: datetime | None = None) -> None:
    """Set a new password and end every session of the account (``accounts.login.forget_failures`` lifts
    a lockout)."""
    check_password_policy(password)
    account.password_hash = hash_password(password)
    account.password_changed_at = now or utcnow()
    end_all_sessions(session, account)
    session.flush()


def disable_account(session: Session, account: Account) -> None:
    """The account can no longer log in; its sessions end now."""
    account.active = False
    end_all_sessions(session, account)
    session.flush()


def validate_skills(skills: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for skill in skills:
        value = skill.strip().lower()
        if not SKILL_PATTERN.fullmatch(value):
            raise InvalidAccountData("skills", f"技能 {skill!r} 无效：只能包含小写字母、数字、下划线和连字符。")
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


def make_agent(session: Session, account: Account, skills: Iterable[str] = (), max_chats: int = 3) -> Agent:
    """Give ``account`` (or update) its serving side: skills and concurrent chat limit; offline at first."""
    if not 1 <= max_chats <= MAX_CHATS_LIMIT:
        raise InvalidAccountData("max_chats", f"同时接待数须在 1 到 {MAX_CHATS_LIMIT} 之间")
    checked = validate_skills(skills)
    agent = session.get(Agent, account.id)
    if agent is None:
        agent = Agent(account_id=account.id, status=AgentStatus.OFFLINE.value)
        session.add(agent)
    agent.skills = checked
    agent.max_chats = max_chats
    session.flush()
    return agent


def join_grids(session: Session, account: Account, grid_codes: Iterable[str]) -> None:
    """Add ``account`` to each grid (already a member: nothing happens); unknown grids are refused."""
    codes = list(dict.fromkeys(grid_codes))
    known = set(session.scalars(select(Grid.code).where(Grid.code.in_(codes))))
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise InvalidAccountData("grids", f"未知网格：{'、'.join(unknown)}")
    for code in codes:
        if session.get(GridMembership, (code, account.id)) is None:
            session.add(GridMembership(grid_code=code, account_id=account.id))
    session.flush()
