"""Staff accounts, login and sessions (no HTTP): the consoles, the CLI and the set-up call these.

Functions take a SQLAlchemy session and never commit, with one exception: a failed login commits
its failure count before raising, so the caller's rollback cannot erase the lockout.
Errors are domain exceptions whose messages (Chinese) may be shown to people as they are.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from accounts.models import Account, AccountSession, Role
from accounts.passwords import (
    MAX_PASSWORD_CHARS,
    dummy_verify,
    hash_password,
    needs_rehash,
    verify_password,
)
from griddesk.db import utcnow
from griddesk.settings import get_settings
from grids.models import Agent, AgentStatus, Grid, GridMembership

STAFF_SEED_FILE = Path(__file__).resolve().parent / "seed" / "staff.json"

USERNAME_PATTERN = re.compile(r"[a-z0-9._-]{3,64}")
SKILL_PATTERN = re.compile(r"[a-z0-9_-]{1,32}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_DISPLAY_NAME_CHARS = 64
MIN_PASSWORD_CHARS = 10
MAX_CHATS_LIMIT = 20

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
SESSION_MAX_AGE = timedelta(days=7)
# A session's last_seen_at is written at most this often (saves a write per request).
SEEN_GRANULARITY = timedelta(seconds=60)
MAX_TOKEN_CHARS = 128


# ---- errors -------------------------------------------------------------------------------------


class AccountError(Exception):
    """Base of the account errors; ``str(error)`` is a message for people (Chinese)."""


class InvalidAccountData(AccountError):
    """A username, display name, role, skill or grid is not acceptable."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class UsernameTaken(AccountError):
    def __init__(self, username: str) -> None:
        super().__init__(f"用户名 {username} 已被使用")
        self.username = username


class WeakPassword(AccountError):
    """The password breaks the policy (at least MIN_PASSWORD_CHARS characters)."""


class AccountNotFound(AccountError):
    def __init__(self, username: str) -> None:
        super().__init__(f"找不到账号 {username}")
        self.username = username


class InvalidCredentials(AccountError):
    """Unknown user, wrong password, disabled account or no password set: deliberately one error."""

    def __init__(self) -> None:
        super().__init__("用户名或密码错误")


class AccountLocked(AccountError):
    """Too many failed logins in a row; no login (not even a correct one) until ``until``."""

    def __init__(self, until: datetime) -> None:
        super().__init__("登录失败次数过多, 账号已暂时锁定")
        self.until = until


class StaffSeedError(AccountError):
    """The staff seed file cannot be read or names unknown grids."""


# ---- who is asking ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """A logged-in staff member as the consoles see them (no ORM object, safe to pass between threads)."""

    account_id: int
    username: str
    display_name: str
    role: Role
    grid_codes: tuple[str, ...]

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def is_manager_of(self, grid_code: str) -> bool:
        """Managers oversee their own grids; admins every grid."""
        if self.role is Role.ADMIN:
            return True
        return self.role is Role.MANAGER and grid_code in self.grid_codes

    def can_serve(self, grid_code: str) -> bool:
        """Whether this person may see and take the queue of ``grid_code`` (admins: every grid)."""
        return self.role is Role.ADMIN or grid_code in self.grid_codes


def principal_for(session: Session, account: Account) -> Principal:
    role = Role(account.role)
    if role is Role.ADMIN:
        codes = session.scalars(select(Grid.code).order_by(Grid.code))
    else:
        codes = session.scalars(
            select(GridMembership.grid_code)
            .where(GridMembership.account_id == account.id)
            .order_by(GridMembership.grid_code)
        )
    return Principal(account.id, account.username, account.display_name, role, tuple(codes))


def grids_of(session: Session, principal: Principal) -> list[Grid]:
    """The grids ``principal`` works in (admins: all), ordered by code."""
    if not principal.grid_codes:
        return []
    return list(session.scalars(select(Grid).where(Grid.code.in_(principal.grid_codes)).order_by(Grid.code)))


# ---- accounts -----------------------------------------------------------------------------------


def normalize_username(username: str) -> str:
    return username.strip().lower()


def validate_username(username: str) -> str:
    name = normalize_username(username)
    if not USERNAME_PATTERN.fullmatch(name):
        raise InvalidAccountData("username", "用户名须为 3-64 个字符, 只能包含小写字母、数字、点、下划线和连字符")
    return name


def validate_display_name(display_name: str) -> str:
    name = display_name.strip()
    if not 1 <= len(name) <= MAX_DISPLAY_NAME_CHARS or _CONTROL.search(name):
        raise InvalidAccountData("display_name", f"姓名须为 1-{MAX_DISPLAY_NAME_CHARS} 个字符, 且不能含控制字符")
    return name


def validate_role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidAccountData("role", "角色须为 agent (客服)、manager (网格经理) 或 admin (管理员)") from None


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


def create_account(session: Session, username: str, display_name: str, role: Role | str,
                   password: str | None = None, now: datetime | None = None) -> Account:
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
    """Set a new password, clear any lockout and end every session of the account."""
    check_password_policy(password)
    account.password_hash = hash_password(password)
    account.password_changed_at = now or utcnow()
    account.failed_logins = 0
    account.locked_until = None
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
            raise InvalidAccountData("skills", f"技能 {skill!r} 无效: 只能包含小写字母、数字、下划线和连字符")
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
        raise InvalidAccountData("grids", f"未知网格: {', '.join(unknown)}")
    for code in codes:
        if session.get(GridMembership, (code, account.id)) is None:
            session.add(GridMembership(grid_code=code, account_id=account.id))
    session.flush()


# ---- login --------------------------------------------------------------------------------------


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


# ---- sessions -----------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, account: Account, now: datetime, hours: float) -> tuple[str, str]:
    """A new login of ``account``: returns ``(token, csrf_token)``; only the token's SHA-256 is stored."""
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    session.add(AccountSession(
        token_hash=_token_hash(token), account_id=account.id, csrf_token=csrf_token, created_at=now,
        last_seen_at=now, expires_at=min(now + timedelta(hours=hours), now + SESSION_MAX_AGE),
    ))
    session.flush()
    return token, csrf_token


def resolve_session(session: Session, token: str, now: datetime,
                    hours: float | None = None) -> tuple[Principal, str] | None:
    """The ``(principal, csrf_token)`` of a live session, or None.

    Sliding expiry: each use moves the end to ``now + hours`` (default: settings.session_hours),
    never past ``SESSION_MAX_AGE`` after the login. Expired sessions and sessions of disabled
    accounts are deleted.
    """
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    row = session.get(AccountSession, _token_hash(token))
    if row is None:
        return None
    account = session.get(Account, row.account_id)
    deadline = row.created_at + SESSION_MAX_AGE
    if account is None or not account.active or now >= row.expires_at or now >= deadline:
        session.delete(row)
        session.flush()
        return None
    if hours is None:
        hours = get_settings().session_hours
    if now - row.last_seen_at >= SEEN_GRANULARITY:
        row.last_seen_at = now
        row.expires_at = min(now + timedelta(hours=hours), deadline)
        session.flush()
    return principal_for(session, account), row.csrf_token


def end_session(session: Session, token: str) -> bool:
    """Log out: the token stops working. Returns whether there was such a session."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return False
    result = session.execute(delete(AccountSession).where(AccountSession.token_hash == _token_hash(token)))
    return bool(result.rowcount)


def end_all_sessions(session: Session, account: Account) -> int:
    result = session.execute(delete(AccountSession).where(AccountSession.account_id == account.id))
    return int(result.rowcount or 0)


def purge_expired_sessions(session: Session, now: datetime) -> int:
    """Delete sessions past their end (housekeeping; expired ones never resolve anyway)."""
    result = session.execute(delete(AccountSession).where(AccountSession.expires_at <= now))
    return int(result.rowcount or 0)


# ---- first start --------------------------------------------------------------------------------


def generate_password() -> str:
    """A random initial password (16 URL-safe characters, ~96 bits)."""
    return secrets.token_urlsafe(12)


def _read_staff(path: Path) -> list[dict[str, object]]:
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise StaffSeedError(f"无法读取人员文件 {path}: {exc}") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise StaffSeedError(f"人员文件 {path} 须为对象数组")
    return records


def seed_staff(session: Session, path: Path = STAFF_SEED_FILE) -> list[tuple[str, str]]:
    """On first start (no accounts yet), create the staff of ``path`` with fresh random passwords.

    Agents and managers get an Agent row (skills, max_chats, offline) and their grid memberships.
    Returns ``(username, password)`` pairs to show once; the passwords are stored only as hashes.
    With any account present nothing is done and ``[]`` is returned.
    """
    if session.scalar(select(func.count(Account.id))):
        return []
    created: list[tuple[str, str]] = []
    for record in _read_staff(path):
        try:
            password = generate_password()
            account = create_account(session, str(record["username"]), str(record["display_name"]),
                                     str(record["role"]), password)
            if account.role in (Role.AGENT, Role.MANAGER):
                make_agent(session, account, _strings(record.get("skills", [])), int(record.get("max_chats", 3)))
            join_grids(session, account, _strings(record.get("grids", [])))
        except (KeyError, TypeError, ValueError, AccountError) as exc:
            raise StaffSeedError(f"人员文件 {path} 中的 {record.get('username')!r} 无效: {exc}") from None
        created.append((account.username, password))
    return created


def _strings(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("须为字符串数组")
    return value


def write_initial_passwords(path: Path, pairs: Sequence[tuple[str, str]]) -> None:
    """Write the first-start passwords to ``path``, readable by the owner only (mode 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# GridDesk 初始密码 (首次登录后请修改, 然后删除本文件)", *(f"{u}\t{p}" for u, p in pairs)]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, ("\n".join(lines) + "\n").encode("utf-8"))
    finally:
        os.close(fd)
