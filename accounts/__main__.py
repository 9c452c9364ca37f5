"""Command line of staff accounts: ``python -m accounts {list,create,passwd,disable}``.

Passwords are never taken from the command line (they would end up in the shell history and in
``ps``): they are asked for with a hidden prompt, or read from the first line of standard input
when it is not a terminal (``printf '%s\\n' "$PW" | python -m accounts passwd zhang.wei``).
Exit codes: 0 done, 1 refused (unknown account, name taken, weak password…), 2 bad usage.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import datetime

from sqlalchemy import select

from accounts.errors import AccountError
from accounts.login import forget_failures, locked_everywhere
from accounts.management import (
    check_password_policy,
    create_account,
    disable_account,
    get_account,
    join_grids,
    list_accounts,
    make_agent,
    set_password,
)
from accounts.models import Account, Role
from griddesk.db import session_scope, utcnow
from grids.models import Agent, GridMembership

ROLE_LABELS = {Role.AGENT: "客服", Role.MANAGER: "网格经理", Role.ADMIN: "管理员"}


class PasswordInputError(Exception):
    pass


def read_password(prompt: str = "新密码 (new password): ") -> str:
    """A hidden prompt asked twice on a terminal; otherwise the first line of stdin."""
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        second = getpass.getpass("再输入一次 (repeat): ")
        if first != second:
            raise PasswordInputError("两次输入的密码不一致 (passwords do not match)")
        password = first
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise PasswordInputError("没有读到密码 (no password given)")
    check_password_policy(password)
    return password


def _list(_args: argparse.Namespace) -> int:
    with session_scope() as session:
        accounts = list_accounts(session)
        grids: dict[int, list[str]] = {}
        for membership in session.scalars(select(GridMembership).order_by(GridMembership.grid_code)):
            grids.setdefault(membership.account_id, []).append(membership.grid_code)
        agents = {a.account_id: a for a in session.scalars(select(Agent))}
        now = utcnow()
        for account in accounts:
            print(_row(account, grids.get(account.id, []), agents.get(account.id), now))
    print(f"共 {len(accounts)} 个账号 ({len(accounts)} accounts)")
    return 0


def _row(account: Account, grids: list[str], agent: Agent | None, now: datetime) -> str:
    state = "启用" if account.active else "已停用"
    if account.active and account.password_hash is None:
        state = "未设密码"
    if locked_everywhere(account.username, now):
        state = "已锁定"
    serving = f"技能 {','.join(agent.skills) or '-'} 最多 {agent.max_chats} 个会话" if agent else ""
    role = ROLE_LABELS.get(Role(account.role), account.role)
    return (
        f"{account.username:<20} {account.display_name:<10} {role:<6} {state:<5} {','.join(grids) or '-':<24} {serving}"
    )


def _create(args: argparse.Namespace) -> int:
    password = None if args.no_password else read_password()
    with session_scope() as session:
        account = create_account(session, args.username, args.name, args.role, password)
        if account.role in (Role.AGENT, Role.MANAGER):
            make_agent(session, account, args.skill, args.max_chats)
        join_grids(session, account, args.grid)
        username = account.username
    note = "" if password else " (未设密码, 请用 passwd 设置 / no password yet: run passwd)"
    print(f"已创建账号 {username} (account created){note}")
    return 0


def _passwd(args: argparse.Namespace) -> int:
    with session_scope() as session:
        get_account(session, args.username)  # fail before asking for a password
    password = read_password()
    with session_scope() as session:
        account = get_account(session, args.username)
        set_password(session, account, password)
    forget_failures(account.username)
    print(f"已为 {account.username} 设置新密码, 该账号的所有登录已失效 (password changed; sessions ended)")
    return 0


def _disable(args: argparse.Namespace) -> int:
    with session_scope() as session:
        account = get_account(session, args.username)
        disable_account(session, account)
    print(f"已停用账号 {account.username} (account disabled)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m accounts", description="GridDesk 员工账号 (staff accounts)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="列出所有账号 (list accounts)").set_defaults(run=_list)

    create = commands.add_parser("create", help="新建账号 (create an account)")
    create.add_argument("username", help="登录名, 如 zhang.wei")
    create.add_argument("--name", required=True, help="显示的姓名, 如 张伟")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--grid", action="append", default=[], metavar="CODE", help="所属网格 (可重复)")
    create.add_argument("--skill", action="append", default=[], metavar="S", help="技能 (可重复), 如 billing")
    create.add_argument("--max-chats", type=int, default=3, metavar="N", help="最多同时接待的会话数 (默认 3)")
    create.add_argument("--no-password", action="store_true", help="先不设密码 (之后用 passwd 设置)")
    create.set_defaults(run=_create)

    passwd = commands.add_parser("passwd", help="设置密码 (set a password; ends its sessions)")
    passwd.add_argument("username")
    passwd.set_defaults(run=_passwd)

    disable = commands.add_parser("disable", help="停用账号 (disable an account)")
    disable.add_argument("username")
    disable.set_defaults(run=_disable)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (AccountError, PasswordInputError) as exc:
        print(f"失败: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, EOFError):
        print("\n已取消 (cancelled)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
