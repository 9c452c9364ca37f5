"""First start: the staff of ``seed/staff.json`` with fresh random passwords, shown once."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.errors import AccountError, StaffSeedError
from accounts.management import create_account, join_grids, make_agent
from accounts.models import Account, Role

STAFF_SEED_FILE = Path(__file__).resolve().parent / "seed" / "staff.json"


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
            account = create_account(
                session, str(record["username"]), str(record["display_name"]), str(record["role"]), password
            )
            if account.role in (Role.AGENT, Role.MANAGER):
                make_agent(session, account, _strings(record.get("skills", [])), int(str(record.get("max_chats", 3))))
            join_grids(session, account, _strings(record.get("grids", [])))
        except (KeyError, TypeError, ValueError, AccountError) as exc:
            raise StaffSeedError(f"人员文件 {path} 中的 {record.get('username')!r} 无效：{exc}") from None
        created.append((account.username, password))
    return created


def _strings(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("须为字符串数组")
    return value


def write_initial_passwords(path: Path, pairs: Sequence[tuple[str, str]]) -> None:
    """Write the first-start passwords to ``path``, readable by the owner only (mode 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# GridDesk 初始密码（首次登录后请修改，然后删除本文件）", *(f"{u}\t{p}" for u, p in pairs)]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, ("\n".join(lines) + "\n").encode("utf-8"))
    finally:
        os.close(fd)
