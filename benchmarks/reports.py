"""Reports API latency on a year of demo activity: p50/p95 of GET /api/v1/reports/kpis.

Usage: .venv/app/bin/python benchmarks/reports.py [--data DIR] [--scale 1.0] [--database URL] [--runs N]
The first run migrates a database in DIR (default var/bench-reports; or --database, e.g. a PostgreSQL URL) and
fills it with `python -m reports demo-data` (seed 1, the year up to 2026-11-30: at scale 1.0 about 100 000
conversations, 1 million messages, 50 000 tickets); later runs reuse it. Then a gateway app serves on a
loopback port and a logged-in grid manager and admin ask for:
  - a month of one grid (cd-wuhou, November 2026), without and with group_by=day   (goal p95 < 500 ms)
  - a year of every grid (admin), without and with group_by=month                   (goal p95 < 2 s)
Baseline in the same run: GET /api/v1/auth/me (a logged-in request that reads one session row).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import percentiles

PASSWORD = "benchmark-pass-1"
END = "2026-11-30"
CASES = [
    ("manager", "month, one grid", {"grid": "cd-wuhou", "from": "2026-11-01", "to": END}, 0.5),
    (
        "manager",
        "month, one grid, by day",
        {"grid": "cd-wuhou", "from": "2026-11-01", "to": END, "group_by": "day"},
        0.5,
    ),
    ("admin", "year, all grids", {"from": "2025-12-01", "to": END}, 2.0),
    ("admin", "year, all grids, by month", {"from": "2025-12-01", "to": END, "group_by": "month"}, 2.0),
]


def prepare(scale: float) -> None:
    from sqlalchemy import func, select

    from accounts.management import create_account, join_grids
    from accounts.models import Account, Role
    from conversations.models import Conversation, Message
    from griddesk.db import session_scope
    from ops.setup_db import migrate
    from reports.demo import generate
    from tickets.models import Ticket

    migrate()
    with session_scope() as session:
        if not session.scalar(select(func.count()).select_from(Conversation)):
            started = time.perf_counter()
            generate(session, seed=1, scale=scale, end=__import__("datetime").date.fromisoformat(END))
            print(f"demo data written in {time.perf_counter() - started:.0f} s")
        counts = {
            name: session.scalar(select(func.count()).select_from(model))
            for name, model in [("conversations", Conversation), ("messages", Message), ("tickets", Ticket)]
        }
        print("database:", ", ".join(f"{count} {name}" for name, count in counts.items()))
        for username, role, grids in [("bench.admin", Role.ADMIN, ()), ("bench.manager", Role.MANAGER, ("cd-wuhou",))]:
            if session.scalar(select(Account).where(Account.username == username)) is None:
                account = create_account(session, username, username, role, PASSWORD)
                join_grids(session, account, grids)


async def measure(runs: int) -> None:
    import aiohttp
    from aiohttp import web

    from gateway.app import create_app
    from griddesk.settings import load_settings

    settings = dataclasses.replace(load_settings(), cookie_secure=False)
    app = create_app(settings, warm_index=False, watch_overdue=False, sweep_queues=False)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    sessions: dict[str, aiohttp.ClientSession] = {}
    try:
        for who, username in [("admin", "bench.admin"), ("manager", "bench.manager")]:
            session = aiohttp.ClientSession(base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True))  # an IP host
            response = await session.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
            assert response.status == 200, await response.text()
            sessions[who] = session

        async def timed(session: aiohttp.ClientSession, path: str, params: dict[str, str], n: int) -> list[float]:
            samples = []
            for _ in range(n):
                started = time.perf_counter()
                response = await session.get(path, params=params)
                await response.read()
                assert response.status == 200, await response.text()
                samples.append((time.perf_counter() - started) * 1000)
            return samples

        await timed(sessions["admin"], "/api/v1/reports/kpis", CASES[0][2], 1)  # warm the connection and caches
        baseline = percentiles(await timed(sessions["manager"], "/api/v1/auth/me", {}, runs))
        print(f"{'case':<28} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  goal")
        print(
            f"{'baseline: /api/v1/auth/me':<28} {baseline['p50']:>8.1f} {baseline['p95']:>8.1f} {baseline['max']:>8.1f}"
        )
        for who, name, params, goal in CASES:
            n = runs if goal < 1 else max(3, runs // 4)  # the year cases are slower: fewer runs
            figures = percentiles(await timed(sessions[who], "/api/v1/reports/kpis", params, n))
            verdict = "ok" if figures["p95"] < goal * 1000 else "MISSED"
            print(
                f"{name:<28} {figures['p50']:>8.1f} {figures['p95']:>8.1f} {figures['max']:>8.1f}"
                f"  p95 < {goal * 1000:.0f} ms: {verdict}"
            )
    finally:
        for session in sessions.values():
            await session.close()
        await runner.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("var/bench-reports"))
    parser.add_argument("--database", default=None, help="a SQLAlchemy URL (default: SQLite in --data)")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    os.environ["GRIDDESK_DATA_DIR"] = str(args.data.resolve())
    if args.database:
        os.environ["GRIDDESK_DATABASE_URL"] = args.database
    else:
        os.environ.pop("GRIDDESK_DATABASE_URL", None)
    from griddesk.settings import get_settings

    get_settings.cache_clear()
    prepare(args.scale)
    asyncio.run(measure(args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
