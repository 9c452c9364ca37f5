"""Create or migrate the database to the newest schema, load the grids, staff and canned replies, seed
the demo knowledge base.

``python -m ops.setup_db`` (run by ``make run`` / ``make test``); idempotent.
"""

from __future__ import annotations

import argparse
import sys

from alembic import command
from alembic.config import Config

from griddesk.crypto import ensure_key_file, key_file
from griddesk.private import make_private_dir
from griddesk.settings import REPO_ROOT, Settings, get_settings


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url or get_settings().database_url
    return config


def migrate(database_url: str | None = None) -> None:
    """Upgrade the database at ``database_url`` (default: the configured one) to head."""
    command.upgrade(alembic_config(database_url), "head")


def prepare_data_dir(settings: Settings) -> bool:
    """The data directory private (0700, even if an earlier version made it readable by others) and, when
    ``GRIDDESK_DATA_KEY`` is not set, the data key in ``data.key`` (generated on the first start: zero
    set-up for ``make run``). True if a key was generated now."""
    make_private_dir(settings.data_dir, tighten=True)
    if settings.data_key:
        return False
    generated = ensure_key_file(settings.data_dir, announce=False)
    if generated:
        print(
            f"未设置 GRIDDESK_DATA_KEY，已生成数据加密密钥：{key_file(settings.data_dir)}（仅本人可读）。"
            "客户的电话和姓名用它加密存储：请单独备份它，不要和数据库放在一起；丢失它，这些信息就无法读取。"
            "正式部署请设置 GRIDDESK_DATA_KEY（见 README「Encryption at rest」）。"
        )
    return generated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.setup_db")
    parser.add_argument("--no-seed", action="store_true", help="do not load the demo knowledge base")
    args = parser.parse_args(argv)
    prepare_data_dir(get_settings())
    migrate()
    from accounts.staff_seed import seed_staff, write_initial_passwords
    from griddesk.db import session_scope
    from grids.service import seed_grids
    from handoff.canned import seed_canned_replies
    from reports.targets import seed_targets

    with session_scope() as session:
        count = seed_grids(session)
        staff = seed_staff(session)
        replies = seed_canned_replies(session)
        seed_targets(session)  # the KPI targets of the source documents, for grids that have none
    if count:
        print(f"网格配置已加载：{count} 个网格")
    if replies:
        print(f"快捷回复已加载：{replies} 条")
    if staff:
        path = get_settings().data_dir / "initial-passwords.txt"
        write_initial_passwords(path, staff)
        print(
            f"已创建 {len(staff)} 个员工账号（admin、网格经理、客服）；"
            f"初始密码只显示这一次，也写在 {path}（仅本人可读）："
        )
        for username, password in staff:
            print(f"  {username:<16} {password}")
        print("  修改密码：.venv/app/bin/python -m accounts passwd <用户名>")
    if args.no_seed:
        return 0
    from knowledge_base.__main__ import seed

    return seed()


if __name__ == "__main__":
    sys.exit(main())
