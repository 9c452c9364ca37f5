"""Handoff latency: from the customer's 转人工 to the conversation showing in a logged-in agent's console.

Usage: .venv/app/bin/python benchmarks/handoff_latency.py [HANDOFFS]   (default 100)
Starts its own stack (Rasa, action server, gateway) on free ports with a scratch data directory, logs
an agent of the customer's grid into the console websocket, then for each handoff: a new customer
sends 转人工 through the REST channel; the clock stops when the console receives a queue snapshot
holding that conversation. Baseline, measured in the same run on the same machine: an ordinary
customer message's round trip through the gateway to Rasa and back (你好).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import UNREACHED_LIMITS, percentiles
from customers.identity import make_token
from griddesk.settings import load_settings
from ops.stack import Stack

PASSWORD = "benchmark-pass-1"
IDENTITY_SECRET = "benchmark-identity-secret"


def profile(sender: str) -> dict[str, str]:
    """A 成都市武侯区 customer as the embedding site vouches for them (an unsigned region routes nowhere)."""
    claims = {"sub": sender, "region": "成都市武侯区", "exp": int(time.time()) + 3600}
    return {"customer_token": make_token(IDENTITY_SECRET, claims)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(url: str, body: dict, headers: dict[str, str] | None = None) -> tuple[float, bytes, dict[str, str]]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **(headers or {})}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        data = response.read()
        return (time.perf_counter() - started) * 1000, data, dict(response.headers)


def make_agent(env: dict[str, str]) -> None:
    code = (
        "from griddesk.db import session_scope\n"
        "from accounts.models import Role\n"
        "from accounts.management import create_account, make_agent, join_grids\n"
        "from grids.models import Agent, AgentStatus\n"
        "with session_scope() as s:\n"
        f"    a = create_account(s, 'bench.agent', '测评客服', Role.AGENT, {PASSWORD!r})\n"
        "    make_agent(s, a, ['general'], 20)\n"
        "    join_grids(s, a, ['cd-wuhou'])\n"
        "    s.get(Agent, a.id).status = AgentStatus.ONLINE\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


async def measure(base: str, handoffs: int) -> tuple[list[float], list[float]]:
    _, _, headers = post(f"{base}/api/v1/auth/login", {"username": "bench.agent", "password": PASSWORD})
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    webhook = f"{base}/webhooks/rest/webhook"
    first_seen: dict[int, float] = {}  # handoff id → when the console first got a queue holding it

    async def read(ws: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in ws:
            event = json.loads(frame.data)
            if event["type"] == "queue":
                now = time.perf_counter()
                for item in event["items"]:
                    first_seen.setdefault(item["handoff_id"], now)

    baseline, handoff = [], []
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{base}/api/v1/console/ws", headers={"Cookie": cookie, "Origin": base}) as ws,
    ):
        reader = asyncio.create_task(read(ws))
        for i in range(handoffs + 3):
            sender = f"bench-{uuid.uuid4().hex}"
            metadata = profile(sender)
            elapsed, _, _ = await asyncio.to_thread(
                post, webhook, {"sender": sender, "message": "你好", "metadata": metadata}
            )
            started = time.perf_counter()
            await asyncio.to_thread(post, webhook, {"sender": sender, "message": "转人工", "metadata": metadata})
            handoff_id = (await asyncio.to_thread(get, f"{base}/webhooks/rest/status?sender={sender}"))["handoff_id"]
            for _ in range(3000):
                if handoff_id in first_seen:
                    break
                await asyncio.sleep(0.01)
            else:
                raise RuntimeError(f"handoff {handoff_id} never reached the console")
            if i >= 3:  # the first three warm up Rasa, the action server and the caches
                baseline.append(elapsed)
                handoff.append((first_seen[handoff_id] - started) * 1000)
            await asyncio.to_thread(post, webhook, {"sender": sender, "message": "/griddesk_back_to_bot"})
        reader.cancel()
    return baseline, handoff


def main() -> None:
    handoffs = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "GRIDDESK_DATA_DIR": tmp,
            "GRIDDESK_GATEWAY_PORT": str(free_port()),
            "GRIDDESK_RASA_PORT": str(free_port()),
            "GRIDDESK_ACTION_PORT": str(free_port()),
            "GRIDDESK_COOKIE_SECURE": "false",
            "GRIDDESK_IDENTITY_SECRET": IDENTITY_SECRET,
            **UNREACHED_LIMITS,
        }
        subprocess.run([sys.executable, "-m", "ops.setup_db"], check=True, env=env, capture_output=True)
        make_agent(env)
        settings = load_settings(env)
        stack = Stack(settings)
        stack.start()
        try:
            baseline, handoff = asyncio.run(measure(settings.gateway_url, handoffs))
        finally:
            stack.stop()
    b, h = percentiles(baseline), percentiles(handoff)
    print(
        f"baseline, a customer message through the gateway to Rasa and back: "
        f"p50 {b['p50']:.0f} ms, p95 {b['p95']:.0f} ms (n={b['n']})"
    )
    print(
        f"转人工 → shown in the agent's console: p50 {h['p50']:.0f} ms ({h['p50'] / b['p50']:.2f}x), "
        f"p95 {h['p95']:.0f} ms ({h['p95'] / b['p95']:.2f}x), max {h['max']:.0f} ms (n={h['n']})"
    )


if __name__ == "__main__":
    main()
