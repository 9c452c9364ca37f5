"""Load: many customers at once, straight to Rasa and through the gateway, in the same run (issue 13 item 7).

Usage:
    .venv/app/bin/python benchmarks/load.py [--levels 20,50,200] [--messages 5] [--rasa-timeout S]
    .venv/app/bin/python benchmarks/load.py --cluster [...]   (single process, then ``make cluster``)
    .venv/app/bin/python benchmarks/load.py --gateway-url URL --rasa-url URL --database-url URL   (a running stack)

Without URLs it starts its own stack (Rasa, action server, gateway: one process each, as ``make run``) on free
loopback ports with a scratch data directory. With ``--cluster`` the single-process stack runs on a throwaway
PostgreSQL database (as ``make run-postgres``) and is stopped, then the real ``python -m ops.cluster`` starts (two
gateways, two Rasa servers, two action servers, HAProxy in front, its own throwaway PostgreSQL and Redis) and
the same levels run against its balancer: "straight to Rasa" is then HAProxy's Rasa front (both Rasa servers). At each level, N customers talk at once; each sends
``--messages`` questions one after the other, waiting for the answer before the next (as people do). Every
level runs first straight to Rasa's REST channel (the baseline), then through the gateway, on the same
processes, so the two see the same machine. Reported per level and target: messages per second, p50 and p95
of the round trip, errors (anything but 200, and the gateway's "bot unavailable" answers), and for the gateway
the customer messages sent against those recorded in the database (they must be equal: nothing lost).
Loopback only; everything bounded (at most ``MAX_LEVEL`` customers, a 120 s timeout per request).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from sqlalchemy import create_engine, func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import UNREACHED_LIMITS, percentiles
from conversations.models import Author, Conversation, Message
from griddesk.settings import load_settings
from ops import postgres
from ops.cluster import launched
from ops.stack import Stack

QUESTIONS = [
    "你们的服务时间是几点到几点",
    "怎么开发票",
    "网速很慢怎么办",
    "你們的電話是多少",
    "怎么修改密码",
    "发票抬头开错了怎么办",
    "宽带怎么续费",
    "投诉多久能处理",
]
MAX_LEVEL = 500
REQUEST_TIMEOUT = 120.0


@dataclass
class Run:
    target: str
    level: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    senders: list[str] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return len(self.latencies_ms) + self.errors


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sender_id() -> str:
    """The shape the web channels accept (≥ 128 random bits)."""
    return f"load-{secrets.token_hex(16)}"


async def customer(session: aiohttp.ClientSession, url: str, sender: str, messages: int, run: Run) -> None:
    for i in range(messages):
        body = {"sender": sender, "message": QUESTIONS[i % len(QUESTIONS)]}
        started = time.perf_counter()
        try:
            async with session.post(url, json=body) as response:
                await response.read()
                degraded = "X-GridDesk-Degraded" in response.headers
                error = "degraded" if degraded else (None if response.status == 200 else f"HTTP {response.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = type(exc).__name__
        if error is None:
            run.latencies_ms.append((time.perf_counter() - started) * 1000)
        else:
            run.errors += 1
            run.error_kinds[error] += 1


async def level_run(target: str, url: str, level: int, messages: int) -> Run:
    run = Run(target, level, senders=[sender_id() for _ in range(level)])
    connector = aiohttp.TCPConnector(limit=level)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(customer(session, url, sender, messages, run) for sender in run.senders))
        run.seconds = time.perf_counter() - started
    return run


def recorded(database_url: str, senders: list[str]) -> int:
    """Customer messages of these conversations in the database."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(
                connection.scalar(
                    select(func.count(Message.id))
                    .join(Conversation, Conversation.id == Message.conversation_id)
                    .where(Conversation.sender_id.in_(senders), Message.author == Author.CUSTOMER)
                )
                or 0
            )
    finally:
        engine.dispose()


def report(run: Run, baseline: Run | None, recorded_count: int | None) -> str:
    throughput = len(run.latencies_ms) / run.seconds if run.seconds else 0.0
    line = f"{run.level:>4} customers  {run.target:<8} {throughput:6.1f} msg/s"
    if run.latencies_ms:
        p = percentiles(run.latencies_ms)
        line += f"  p50 {p['p50']:6.0f} ms  p95 {p['p95']:6.0f} ms"
        if baseline is not None and baseline.latencies_ms and baseline.seconds:
            b = percentiles(baseline.latencies_ms)
            base_throughput = len(baseline.latencies_ms) / baseline.seconds
            line += (
                f"  ({throughput / base_throughput:.2f}x throughput, {p['p50'] / b['p50']:.2f}x p50,"
                f" {p['p95'] / b['p95']:.2f}x p95 of Rasa alone)"
            )
    line += f"  errors {run.errors}/{run.sent}"
    if run.error_kinds:
        line += " (" + ", ".join(f"{kind}: {n}" for kind, n in run.error_kinds.most_common()) + ")"
    if recorded_count is not None:
        line += f"  sent {run.sent} recorded {recorded_count}"
    return line


async def measure(gateway_url: str, rasa_url: str, database_url: str, levels: list[int], messages: int) -> bool:
    """Every level against both targets; True when nothing failed and nothing was lost."""
    gateway = f"{gateway_url}/webhooks/rest/webhook"
    rasa = f"{rasa_url}/webhooks/rest/webhook"
    await level_run("warm-up", gateway, 4, 2)
    await level_run("warm-up", rasa, 4, 2)
    clean = True
    for level in levels:
        direct = await level_run("rasa", rasa, level, messages)
        print(report(direct, None, None), flush=True)
        through = await level_run("gateway", gateway, level, messages)
        count = recorded(database_url, through.senders)
        print(report(through, direct, count), flush=True)
        clean = clean and direct.errors == 0 and through.errors == 0 and count == through.sent
    return clean


def base_env(rasa_timeout: float) -> dict[str, str]:
    env = {**os.environ, "GRIDDESK_RASA_TIMEOUT": str(rasa_timeout), **UNREACHED_LIMITS}
    for name in ("GRIDDESK_DATABASE_URL", "GRIDDESK_RASA_URL", "GRIDDESK_ACTION_SERVER_URL", "GRIDDESK_REDIS_URL"):
        env.pop(name, None)
    return env


def start_stack(tmp: str, rasa_timeout: float, database_url: str | None = None) -> Stack:
    env = {
        **base_env(rasa_timeout),
        "GRIDDESK_DATA_DIR": tmp,
        "GRIDDESK_GATEWAY_PORT": str(free_port()),
        "GRIDDESK_RASA_PORT": str(free_port()),
        "GRIDDESK_ACTION_PORT": str(free_port()),
    }
    if database_url is not None:
        env["GRIDDESK_DATABASE_URL"] = database_url
    subprocess.run([sys.executable, "-m", "ops.setup_db"], check=True, env=env, capture_output=True)
    stack = Stack(load_settings(env))
    stack.start()
    return stack


def single(levels: list[int], messages: int, rasa_timeout: float, on_postgres: bool) -> bool:
    """The three processes of ``make run`` (on SQLite, or on a throwaway PostgreSQL cluster)."""
    database = postgres.Cluster.throwaway_in_temp() if on_postgres else None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            if database is not None:
                database.start()
                database.create_database(postgres.DATABASE)
            stack = start_stack(tmp, rasa_timeout, database.url() if database is not None else None)
            try:
                settings = stack.settings
                return asyncio.run(
                    measure(settings.gateway_url, settings.rasa_url, settings.database_url, levels, messages)
                )
            finally:
                stack.stop()
        finally:
            if database is not None:
                database.remove()


def replicated(levels: list[int], messages: int, rasa_timeout: float) -> bool:
    """``make cluster``: the real ``python -m ops.cluster``, measured through its balancer."""
    with tempfile.TemporaryDirectory() as tmp, launched(Path(tmp), base_env(rasa_timeout)) as running:
        settings = running.settings
        return asyncio.run(measure(settings.gateway_url, settings.rasa_url, settings.database_url, levels, messages))


def parse_levels(raw: str) -> list[int]:
    levels = [int(part) for part in raw.split(",") if part.strip()]
    if not levels or any(level < 1 or level > MAX_LEVEL for level in levels):
        raise argparse.ArgumentTypeError(f"levels between 1 and {MAX_LEVEL}, e.g. 20,50,200")
    return levels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", type=parse_levels, default=[20, 50, 200])
    parser.add_argument("--messages", type=int, default=5, choices=range(1, 51), metavar="1..50")
    parser.add_argument("--rasa-timeout", type=float, default=10.0, help="the gateway's GRIDDESK_RASA_TIMEOUT")
    parser.add_argument("--cluster", action="store_true", help="single process (PostgreSQL), then make cluster")
    parser.add_argument("--gateway-url")
    parser.add_argument("--rasa-url")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    print(f"levels {args.levels}, {args.messages} messages per customer, gateway's Rasa timeout {args.rasa_timeout} s")
    if args.gateway_url:
        if not (args.rasa_url and args.database_url):
            parser.error("--gateway-url needs --rasa-url and --database-url")
        ok = asyncio.run(measure(args.gateway_url, args.rasa_url, args.database_url, args.levels, args.messages))
    elif args.cluster:
        print("== single process (one gateway, one Rasa, one action server; PostgreSQL)", flush=True)
        ok = single(args.levels, args.messages, args.rasa_timeout, on_postgres=True)
        print("== make cluster (two of each behind HAProxy; PostgreSQL, Redis)", flush=True)
        ok = replicated(args.levels, args.messages, args.rasa_timeout) and ok
    else:
        ok = single(args.levels, args.messages, args.rasa_timeout, on_postgres=False)
    print("clean: 0 errors, nothing lost" if ok else "NOT CLEAN: errors or lost messages (see above)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
