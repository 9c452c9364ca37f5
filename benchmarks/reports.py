"""Reports API latency on a year of demo activity: p50/p95 of GET /api/v1/reports/kpis and of the staffing forecast.

Usage: .venv/app/bin/python benchmarks/reports.py [--data DIR] [--scale 1.0] [--database URL|sqlite ...] [--runs N]
The first run migrates a database in DIR (default var/bench-reports; or --database, e.g. a PostgreSQL URL) and
fills it with `python -m reports demo-data` (seed 1, the year up to 2026-11-30: at scale 1.0 about 100 000
conversations, 1 million messages, 50 000 tickets); later runs reuse it. --database may be given more than once
(`sqlite` = SQLite in DIR): each database is measured in turn, one table each. Then a gateway app serves on a
loopback port and a logged-in grid manager and admin ask for:
  - a month of one grid (cd-wuhou, November 2026), without and with group_by=day   (goal p95 < 500 ms)
  - a year of every grid (admin), without and with group_by=month                   (goal p95 < 2 s)
  - the staffing forecast of cd-wuhou from the last 4 and 26 complete weeks before today (no goal in the issue;
    its window follows the clock, so the handoffs it read are printed with it)
Baseline in the same run: GET /api/v1/auth/me (a logged-in request that reads one session row); each case is
also printed as a multiple of the baseline's p50 (×base), a figure less at the mercy of the machine's load, and
with its CPU time per request (cpu ms): this process (the gateway, its database threads and the client) plus,
on PostgreSQL, the server processes of the benchmark's connections (from /proc), so a busy machine's waiting
is left out.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import resource
import sys
import time
from collections.abc import Callable
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
KPIS = "/api/v1/reports/kpis"
STAFFING = "/api/v1/reports/staffing"
FORECASTS = [
    ("manager", f"staffing forecast, {weeks} weeks", {"grid": "cd-wuhou", "weeks": str(weeks)}) for weeks in (4, 26)
]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _server_cpu(pids: list[int]) -> float:
    """CPU seconds of these PostgreSQL server processes so far (utime + stime in /proc/PID/stat)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue  # gone, or on another host
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


def cpu_clock() -> Callable[[], float]:
    """A clock of the CPU seconds the benchmark's requests use: this process, and on PostgreSQL the server
    processes of the connections to the benchmark's database."""
    from sqlalchemy import text

    from griddesk.db import get_engine

    engine = get_engine()
    if engine.dialect.name != "postgresql":
        return _own_cpu
    # every client connection to the database, the clock's own included (it is one of the pool's)
    query = text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'"
    )

    def clock() -> float:
        with engine.connect() as connection:
            pids = [int(pid) for pid in connection.scalars(query)]
        return _own_cpu() + _server_cpu(pids)

    return clock


def describe_database() -> str:
    from sqlalchemy import text

    from griddesk.db import get_engine

    engine = get_engine()
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            version = connection.scalar(text("SHOW server_version"))
            return f"PostgreSQL {version} ({engine.url.database})"
        version = connection.scalar(text("SELECT sqlite_version()"))
        return f"SQLite {version} ({engine.url.database})"


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

        clock = cpu_clock()

        async def timed(session: aiohttp.ClientSession, path: str, params: dict[str, str], n: int) -> dict[str, float]:
            samples = []
            cpu = clock()
            for _ in range(n):
                started = time.perf_counter()
                response = await session.get(path, params=params)
                await response.read()
                assert response.status == 200, await response.text()
                samples.append((time.perf_counter() - started) * 1000)
            return percentiles(samples) | {"cpu": (clock() - cpu) * 1000 / n}

        def row(name: str, figures: dict[str, float], unit: float, goal: str) -> None:
            print(
                f"{name:<30} {figures['p50']:>8.1f} {figures['p95']:>8.1f} {figures['max']:>8.1f}"
                f" {figures['cpu']:>8.1f} {figures['p50'] / unit:>10.1f} {figures['p95'] / unit:>10.1f}  {goal}"
            )

        await timed(sessions["admin"], KPIS, CASES[0][2], 1)  # warm the connection and caches
        await timed(sessions["manager"], STAFFING, FORECASTS[0][2], 1)
        baseline = await timed(sessions["manager"], "/api/v1/auth/me", {}, runs)
        unit = baseline["p50"]  # the ratios: how many baseline requests (p50) a report costs, on this machine now
        print(
            f"{'case':<30} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cpu ms':>8} {'p50 ×base':>10} {'p95 ×base':>10}"
            "  goal"
        )
        row("baseline: /api/v1/auth/me", baseline, unit, "")
        for who, name, params, goal in CASES:
            n = runs if goal < 1 else max(3, runs // 4)  # the year cases are slower: fewer runs
            figures = await timed(sessions[who], KPIS, params, n)
            verdict = "ok" if figures["p95"] < goal * 1000 else "MISSED"
            row(name, figures, unit, f"p95 < {goal * 1000:.0f} ms: {verdict}")
        for who, name, params in FORECASTS:
            figures = await timed(sessions[who], STAFFING, params, runs)
            response = await sessions[who].get(STAFFING, params=params)
            body = await response.json()
            row(name, figures, unit, f"({body['handoffs']} handoffs, {body['from']} to {body['to']})")
    finally:
        for session in sessions.values():
            await session.close()
        await runner.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("var/bench-reports"))
    parser.add_argument(
        "--database",
        action="append",
        help="a SQLAlchemy URL, or `sqlite` for SQLite in --data (default); repeat to measure several in turn",
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    os.environ["GRIDDESK_DATA_DIR"] = str(args.data.resolve())
    from griddesk.db import reset_engine
    from griddesk.settings import get_settings

    for database in args.database or ["sqlite"]:
        if database == "sqlite":
            os.environ.pop("GRIDDESK_DATABASE_URL", None)
        else:
            os.environ["GRIDDESK_DATABASE_URL"] = database
        get_settings.cache_clear()
        reset_engine()
        prepare(args.scale)
        print(f"== {describe_database()}, load average {' '.join(f'{n:.2f}' for n in os.getloadavg())}")
        asyncio.run(measure(args.runs))
        print()
    reset_engine()
    return 0


if __name__ == "__main__":
    sys.exit(main())
