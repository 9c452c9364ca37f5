"""``python -m reports demo-data [--seed N] [--scale F] [--end YYYY-MM-DD] [--force]``; ``python -m reports
seed-targets``."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from sqlalchemy import inspect

from griddesk.db import get_engine, session_scope


def _migrated() -> bool:
    if inspect(get_engine()).has_table("report_target"):
        return True
    print("数据库还没有建好或不是最新结构：请先运行 .venv/app/bin/python -m ops.setup_db", file=sys.stderr)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports", description="Grid reports: demo data, targets")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo-data", help="fill the database with a deterministic year of activity")
    demo.add_argument("--seed", type=int, default=1, help="random seed (same seed, scale and end: same rows)")
    demo.add_argument("--scale", type=float, default=1.0, help="1.0 ≈ 100k conversations, 1M messages, 50k tickets")
    demo.add_argument("--end", type=date.fromisoformat, default=None, help="last local day (default: today)")
    demo.add_argument(
        "--force", action="store_true", help="add to a database that already has conversations or tickets"
    )
    commands.add_parser("seed-targets", help="store the documents' default targets of grids that have none")
    args = parser.parse_args(argv)
    if not _migrated():
        return 2
    if args.command == "seed-targets":
        from reports.targets import seed_targets

        with session_scope() as session:
            print(f"已为 {seed_targets(session)} 个网格写入默认目标值")
        return 0
    from reports.demo import DemoRefused, generate

    if not 0 < args.scale <= 20:
        parser.error("--scale must be in (0, 20]")
    try:
        with session_scope() as session:
            generate(session, seed=args.seed, scale=args.scale, end=args.end, force=args.force)
    except DemoRefused as refused:
        print(refused, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
