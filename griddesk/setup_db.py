"""Create or migrate the database to the newest schema, load the grids, seed the demo knowledge base.

``python -m griddesk.setup_db`` (run by ``make run`` / ``make test``); idempotent.
"""

from __future__ import annotations

import argparse
import sys

from alembic import command
from alembic.config import Config

from griddesk.settings import REPO_ROOT, get_settings


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url or get_settings().database_url
    return config


def migrate(database_url: str | None = None) -> None:
    """Upgrade the database at ``database_url`` (default: the configured one) to head."""
    command.upgrade(alembic_config(database_url), "head")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m griddesk.setup_db")
    parser.add_argument("--no-seed", action="store_true", help="do not load the demo knowledge base")
    args = parser.parse_args(argv)
    migrate()
    from griddesk.db import session_scope
    from grids.service import seed_grids

    with session_scope() as session:
        count = seed_grids(session)
    if count:
        print(f"网格配置已加载: {count} 个网格")
    if args.no_seed:
        return 0
    from knowledge_base.__main__ import seed

    return seed()


if __name__ == "__main__":
    sys.exit(main())
