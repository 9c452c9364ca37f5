"""Customer message round trip through the gateway, against the same messages sent straight to Rasa.

Usage: .venv/app/bin/python benchmarks/message_latency.py [ROUNDS]
Starts its own stack (Rasa, action server, gateway) on free ports with a scratch data directory.
"""

from __future__ import annotations

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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import UNREACHED_LIMITS, percentiles
from griddesk.settings import load_settings
from ops.stack import Stack

QUESTIONS = [
    "你们的服务时间是几点到几点",
    "怎么开发票",
    "投诉多久能处理",
    "你們的電話是多少",
    "网速很慢怎么办",
    "怎么修改密码",
    "发票抬头开错了怎么办",
    "你好",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(url: str, sender: str, text: str) -> float:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "GRIDDESK_DATA_DIR": tmp,
            "GRIDDESK_GATEWAY_PORT": str(free_port()),
            "GRIDDESK_RASA_PORT": str(free_port()),
            "GRIDDESK_ACTION_PORT": str(free_port()),
            **UNREACHED_LIMITS,
        }
        subprocess.run([sys.executable, "-m", "ops.setup_db"], check=True, env=env, capture_output=True)
        settings = load_settings(env)
        stack = Stack(settings)
        stack.start()
        try:
            gateway = f"{settings.gateway_url}/webhooks/rest/webhook"
            rasa = f"{settings.rasa_url}/webhooks/rest/webhook"
            warm = uuid.uuid4().hex  # a random id: the gateway refuses guessable ones (422)
            for question in QUESTIONS:  # warm-up
                post(gateway, warm, question)
            direct, through = [], []
            for _ in range(rounds):
                sender = uuid.uuid4().hex
                for question in QUESTIONS:  # interleaved so both see the same machine load
                    direct.append(post(rasa, "d" + sender, question))
                    through.append(post(gateway, "g" + sender, question))
        finally:
            stack.stop()
    d, g = percentiles(direct), percentiles(through)
    print(f"baseline straight to Rasa: p50 {d['p50']:.0f} ms, p95 {d['p95']:.0f} ms (n={d['n']})")
    print(
        f"through the gateway:       p50 {g['p50']:.0f} ms ({g['p50'] / d['p50']:.2f}x), "
        f"p95 {g['p95']:.0f} ms ({g['p95'] / d['p95']:.2f}x), max {g['max']:.0f} ms"
    )


if __name__ == "__main__":
    main()
