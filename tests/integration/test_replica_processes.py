"""Two gateway replicas as two real processes (``tests/integration/replica_process.py``) on one database and one real
Redis server: what one process does reaches the customers connected to the other, a platform's replay at the other
is ignored, the rate limits count both, and when the process running the relay is killed (``kill -9``: no lease
given back) the other takes the relay over once its lease has expired. Runs on PostgreSQL too (``--db=postgresql``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from conversations.models import Author
from gateway.channels.relay import LEASE_SECONDS
from griddesk.db import session_scope
from griddesk.leases import JobLease
from handoff import messages
from tests.gateway.channels.test_socketio import Widget
from tests.gateway.test_replicas import (  # noqa: F401 (fake_telegram: a fixture)
    SECRET,
    TOKEN,
    fake_telegram,
    live_messages,
    telegram_update,
    transcript,
)
from tests.gateway_client import closed_port
from tests.ids import web_id

WAIT = 10.0
START_SECONDS = 120.0  # a bound for a replica to start serving, not a measurement
MESSAGES_PER_CONVERSATION = 3
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Replica:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


async def _serving(replica: Replica, http: aiohttp.ClientSession) -> None:
    while True:
        assert replica.process.poll() is None, f"replica {replica.name} exited:\n{replica.output()}"
        try:
            async with http.get(f"{replica.url}/healthz") as response:
                if response.status in (200, 503):  # it serves (Rasa is down on purpose)
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)


@pytest.fixture
async def replicas(settings, redis_url, fake_telegram, tmp_path) -> AsyncIterator[tuple[Replica, Replica]]:  # noqa: F811
    """Replicas A and B (either may take the leases first), stopped with SIGTERM."""
    env = {
        **os.environ,  # the settings fixture's data directory, database and API token
        "GRIDDESK_REDIS_URL": redis_url,
        "GRIDDESK_GATEWAY_HOST": "127.0.0.1",
        "GRIDDESK_RASA_URL": f"http://127.0.0.1:{closed_port()}",
        "GRIDDESK_RASA_TIMEOUT": "2",
        "GRIDDESK_TELEGRAM_TOKEN": TOKEN,
        "GRIDDESK_TELEGRAM_SECRET": SECRET,
        "GRIDDESK_TELEGRAM_API_URL": fake_telegram.url,
        "GRIDDESK_RATE_MESSAGES_PER_CONVERSATION": str(MESSAGES_PER_CONVERSATION),
    }
    started: list[Replica] = []
    try:
        for name in ("A", "B"):  # both start at once (a replica's imports take a while on a busy machine)
            port = closed_port()
            log = tmp_path / f"replica-{name}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "tests.integration.replica_process"],
                    env={**env, "GRIDDESK_GATEWAY_PORT": str(port)},
                    cwd=ROOT,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            started.append(Replica(name, port, process, log))
        async with aiohttp.ClientSession() as http:
            await asyncio.wait_for(asyncio.gather(*(_serving(replica, http) for replica in started)), START_SECONDS)
        yield started[0], started[1]
    finally:
        for replica in started:
            if replica.process.poll() is None:
                replica.process.send_signal(signal.SIGTERM)
        for replica in started:
            try:
                replica.process.wait(30)
            except subprocess.TimeoutExpired:
                replica.process.kill()
                replica.process.wait()


def relay_holder_pid() -> int | None:
    """The process id of the replica holding the relay's lease (holders are ``host:pid:random``)."""
    with session_scope() as session:
        lease = session.get(JobLease, "channel relay")
        return int(lease.holder.split(":")[-2]) if lease is not None else None


async def until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.05)


async def relaying(replicas: tuple[Replica, Replica]) -> tuple[Replica, Replica]:
    """(the replica running the relay, the other one)."""
    await asyncio.wait_for(until(lambda: relay_holder_pid() is not None), WAIT)
    pid = relay_holder_pid()
    holder, other = sorted(replicas, key=lambda replica: replica.process.pid != pid)
    assert holder.process.pid == pid
    return holder, other


async def answered_through_socketio(replica: Replica, text: str, wait: float = WAIT) -> object:
    """What a widget connected to ``replica`` gets back after saying ``text`` (within ``wait`` seconds)."""
    widget = Widget()
    await widget.connect(replica.url)
    try:
        session_id = await widget.session(None)
        await widget.say(text, session_id)
        name, data = await asyncio.wait_for(widget.events.get(), wait)
        assert name == "bot_uttered", (name, data)
        return data
    finally:
        await widget.sio.disconnect()


async def test_a_message_to_one_process_reaches_the_customers_live_socket_on_the_other(replicas):
    a, b = replicas
    sender = web_id("processes")
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{b.url}/webhooks/rest/live", params={"sender": sender}) as live,
    ):
        assert (await live.receive_json(timeout=WAIT))["type"] == "status"
        message = {"sender": sender, "message": "宽带断网了"}
        async with http.post(f"{a.url}/webhooks/rest/webhook", json=message) as response:
            assert response.status == 200, await response.text()
        assert await live_messages(live, 2) == [("customer", "宽带断网了"), ("system", messages.BOT_UNAVAILABLE)]


async def test_the_relay_of_one_process_reaches_a_socketio_widget_connected_to_the_other(replicas):
    _holder, other = await relaying(replicas)
    # the widget's message is recorded by the other process; the answer is sent by the relay's process,
    # through the Socket.IO Redis manager, to the socket the other process holds
    assert await answered_through_socketio(other, "宽带断网了") == {"text": messages.BOT_UNAVAILABLE}


async def test_a_telegram_update_replayed_to_the_other_process_is_ignored(replicas):
    a, b = replicas
    body, headers, chat = telegram_update(876_543, "宽带断网了")
    answers = []
    async with aiohttp.ClientSession() as http:
        for replica in (a, b):
            async with http.post(f"{replica.url}/webhooks/telegram", data=body, headers=headers) as response:
                assert response.status == 200
                answers.append(await response.json())
    assert answers == [{"ok": True}, {"ok": True, "ignored": "replay"}]
    assert [text for author, text in transcript(f"tg:{chat}") if author == Author.CUSTOMER] == ["宽带断网了"]


async def test_a_conversations_rate_limit_counts_what_both_processes_received(replicas):
    sender = web_id("limits")
    statuses = []
    async with aiohttp.ClientSession() as http:
        for n in range(MESSAGES_PER_CONVERSATION + 2):
            replica = replicas[n % 2]
            body = {"sender": sender, "message": f"第{n}条"}
            async with http.post(f"{replica.url}/webhooks/rest/webhook", json=body) as response:
                statuses.append(response.status)
    assert statuses == [200] * MESSAGES_PER_CONVERSATION + [429, 429]


async def test_when_the_relays_process_is_killed_the_other_takes_the_relay_over(replicas):
    holder, other = await relaying(replicas)
    holder.process.kill()  # kill -9: the lease is not given back, it expires
    holder.process.wait()
    # a customer of the surviving process writes meanwhile: answered once the lease has expired
    # (at most LEASE_SECONDS, plus a relay pause) and the survivor's relay took over
    answer = await answered_through_socketio(other, "还在吗", wait=LEASE_SECONDS + 3 * WAIT)
    assert answer == {"text": messages.BOT_UNAVAILABLE}
    assert relay_holder_pid() == other.process.pid
