"""``make cluster`` serves one conversation across replicas and survives a replica kill with nothing lost.

Starts the real ``python -m ops.cluster`` (two action servers, two Rasa servers with the SQL tracker store and
the Redis lock store, two gateways sharing live events through Redis, HAProxy in front) on a throwaway
PostgreSQL cluster and a Redis server of its own, with free ports and a data directory of its own. A customer
talks on gateway A (the bot, then the queue), the agent works on gateway B (the queue, accepting, the live
console socket), each side hearing the other live; then gateway A and one Rasa are killed with SIGKILL and the
conversation goes on through the balancer: the agent and the customer still hear each other, the bot answers
after the hand-back, other customers chatting through the balancer meanwhile lose nothing, and the supervisor
brings the killed processes back.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.management import create_account
from accounts.models import Role
from conversations.models import Author, Conversation, Message
from griddesk.db import make_engine
from griddesk.settings import Settings
from grids.models import Agent, AgentStatus, GridMembership
from handoff import messages as handoff_messages
from ops.cluster import Launched, launched
from tests.integration.client import IDENTITY_SECRET, Customer, Staff, request, verified
from tests.integration.conftest import always_open

pytestmark = [pytest.mark.integration, pytest.mark.postgresql]  # the cluster's own PostgreSQL: in that pass only

AGENT, PASSWORD = "it.cluster", "integration-pass-1"
START_SECONDS = 900  # two Rasa servers load their model at once on a shared 2-core machine
LIVE_SECONDS = 30
CHATTERS, CHATTER_MESSAGES = 3, 8
QUESTIONS = ["你们的服务时间是几点到几点", "怎么开发票", "客服电话是多少", "网速很慢怎么办"]


def _prepared(settings: Settings) -> None:
    always_open(settings)
    _add_agent(settings)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launched]:
    env = {
        **os.environ,
        "GRIDDESK_API_TOKEN": "cluster-token",
        "GRIDDESK_IDENTITY_SECRET": IDENTITY_SECRET,
        "GRIDDESK_RASA_TIMEOUT": "30",  # the machine may be busy; this test is about replicas, not latency
        "GRIDDESK_RATE_MESSAGES_PER_ADDRESS": "2000",
    }
    with launched(tmp_path_factory.mktemp("cluster"), env, _prepared, START_SECONDS) as running:
        yield running


def _add_agent(settings: Settings) -> None:
    """An online agent of 成都武侯网格 who has no console open yet (so customers wait in the queue for them)."""
    engine = make_engine(settings.database_url)
    with Session(engine) as session, session.begin():
        account = create_account(session, AGENT, "集群测试", Role.AGENT, PASSWORD)
        session.add(Agent(account_id=account.id, skills=["general"], max_chats=3, status=AgentStatus.ONLINE))
        session.add(GridMembership(grid_code="cd-wuhou", account_id=account.id))
    engine.dispose()


def _kill(cluster: Launched, name: str) -> int:
    """SIGKILL, then wait until the process is gone: a dying process takes a moment to let go of its
    connections, and a request the balancer hands it meanwhile fails (as the chatters' may)."""
    pid = cluster.pid(name)
    os.kill(pid, signal.SIGKILL)
    cluster.wait_for(lambda: _dead(pid), 30, f"{name} gone after SIGKILL")
    return pid


def _dead(pid: int) -> bool:
    """Exited, whether or not the supervisor has reaped it yet (a zombie holds no socket)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return True


def _customer_texts(settings: Settings, senders: list[str]) -> dict[str, list[str]]:
    """What each customer wrote, as recorded, in order."""
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            rows = session.execute(
                select(Conversation.sender_id, Message.text)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(Conversation.sender_id.in_(senders), Message.author == Author.CUSTOMER)
                .order_by(Message.conversation_id, Message.seq)
            ).all()
    finally:
        engine.dispose()
    found: dict[str, list[str]] = {sender: [] for sender in senders}
    for sender, text in rows:
        found[sender].append(text)
    return found


async def _next(ws: aiohttp.ClientWebSocketResponse, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The next event ``wanted`` on a live socket (others skipped), within ``LIVE_SECONDS``."""

    async def read() -> dict[str, Any]:
        while True:
            frame = await ws.receive()
            if frame.type != aiohttp.WSMsgType.TEXT:
                raise AssertionError(f"the live socket ended: {frame.type} {frame.data!r}")
            event = json.loads(frame.data)
            if wanted(event):
                return event

    return await asyncio.wait_for(read(), LIVE_SECONDS)


async def _reconnect(http: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    """The customer's live socket opened again as chat.js does after its gateway died: a refused or failed
    handshake (the balancer had the request in hand as the gateway died) is tried again after a pause."""
    for _ in range(LIVE_SECONDS):
        try:
            return await http.ws_connect(url, protocols=("griddesk.live",))
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status not in (502, 503):
                raise
        await asyncio.sleep(1)
    raise AssertionError(f"the live socket could not be opened again within {LIVE_SECONDS} s")


def _message(author: str, text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda event: (
        event.get("type") == "message"
        and event["message"]["author"] == author
        and (event["message"].get("text") or "") == text
    )


@dataclass
class Chatter:
    """A customer asking the bot through the balancer, message after message, while replicas die."""

    base: str
    sender: str = field(default_factory=lambda: f"it-{uuid.uuid4().hex}")
    acknowledged: list[str] = field(default_factory=list)  # answered 200 by a gateway
    failed: list[str] = field(default_factory=list)  # the balancer answered an error (a gateway died mid-request)

    def run(self) -> None:
        for n in range(CHATTER_MESSAGES):
            text = f"{QUESTIONS[n % len(QUESTIONS)]}（{n}）"
            try:
                reply = request("POST", f"{self.base}/webhooks/rest/webhook", {"sender": self.sender, "message": text})
                status = reply.status
            except (OSError, ValueError):  # the connection closed unanswered, or the balancer's 502 page
                status = 0
            (self.acknowledged if status == 200 else self.failed).append(text)


def test_a_conversation_across_gateways_survives_a_gateway_and_a_rasa_killed(cluster):
    gateway_a, gateway_b, balancer = cluster.replica_url(1), cluster.replica_url(2), cluster.settings.gateway_url
    customer = Customer(gateway_a, verified(region="成都市武侯区"))
    said: list[str] = []

    def say(on: Customer, text: str) -> list[dict]:
        replies = on.say(text)
        said.append(text)
        return replies

    # the bot answers on gateway A (warm: the first turns of a fresh Rasa are slow on a busy machine)
    cluster.wait_for(lambda: any("8:00" in r.get("text", "") for r in say(customer, QUESTIONS[0])), 300, "a bot answer")
    # the queue: nobody of the grid is at a console yet
    say(customer, "转人工")
    assert customer.status()["owner"] == "queued"
    handoff_id = customer.status()["handoff_id"]
    agent = Staff(gateway_b, AGENT, PASSWORD)
    assert handoff_id in [item["handoff_id"] for item in agent.get("/api/v1/console/queue").body["items"]]

    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            console = await http.ws_connect(
                f"{gateway_b}/api/v1/console/ws", headers={"Cookie": agent.cookie, "Origin": gateway_b}
            )
            queue = await _next(console, lambda event: event.get("type") == "queue")
            assert handoff_id in [item["handoff_id"] for item in queue["items"]]
            last = customer.history()[-1]["seq"]
            live = await http.ws_connect(
                f"{gateway_a}/webhooks/rest/live?sender={customer.sender}&after={last}", protocols=("griddesk.live",)
            )
            await _next(live, lambda event: event.get("type") == "status")

            # the agent accepts on B; the customer's live socket on A hears it
            accepted = await asyncio.to_thread(agent.post, f"/api/v1/console/handoffs/{handoff_id}/accept")
            assert accepted.status == 200, accepted.body
            conversation_id = accepted.body["conversation_id"]
            await _next(live, lambda event: event.get("type") == "status" and event.get("owner") == "human")
            await console.send_json({"type": "subscribe", "conversation_id": conversation_id, "after": last})

            # messages both ways, each heard live on the other gateway
            sent = await asyncio.to_thread(
                agent.post, f"/api/v1/console/handoffs/{handoff_id}/messages", {"text": "您好，我是人工客服"}
            )
            assert sent.status == 201, sent.body
            await _next(live, _message("agent", "您好，我是人工客服"))
            assert await asyncio.to_thread(say, customer, "我家宽带断了") == []
            await _next(console, _message("customer", "我家宽带断了"))
            seen = customer.history()[-1]["seq"]
            await live.close()

            # gateway A and one Rasa die; other customers are chatting with the bot through the balancer meanwhile
            chatters = [Chatter(balancer) for _ in range(CHATTERS)]
            threads = [threading.Thread(target=chatter.run) for chatter in chatters]
            for thread in threads:
                thread.start()
            killed = {name: _kill(cluster, name) for name in ("gateway-1", "rasa-1")}

            # the conversation goes on through the balancer (to gateway B), both ways live
            customer.base, customer.url = balancer, f"{balancer}/webhooks/rest/webhook"
            live = await _reconnect(http, f"{balancer}/webhooks/rest/live?sender={customer.sender}&after={seen}")
            assert await asyncio.to_thread(say, customer, "还在吗？") == []
            await _next(console, _message("customer", "还在吗？"))
            sent = await asyncio.to_thread(
                agent.post, f"/api/v1/console/handoffs/{handoff_id}/messages", {"text": "在的，马上为您处理"}
            )
            assert sent.status == 201, sent.body
            await _next(live, _message("agent", "在的，马上为您处理"))

            # handed back: the bot answers through the Rasa left (the dialogue state is in the shared database)
            handed = await asyncio.to_thread(agent.post, f"/api/v1/console/handoffs/{handoff_id}/hand-back")
            assert handed.status == 200, handed.body
            replies = await asyncio.to_thread(say, customer, "客服电话是多少")
            texts = [r.get("text", "") for r in replies]
            assert texts != [handoff_messages.BOT_UNAVAILABLE] and any("400-800-1234" in t for t in texts), texts
            await live.close()
            await console.close()

            for thread in threads:
                thread.join(300)
            _nothing_lost(cluster, customer.sender, said, chatters)

            # the supervisor brings both back; gateway A serves again
            for name, pid in killed.items():
                cluster.wait_for(lambda name=name, pid=pid: cluster.pid(name) != pid, 120, f"{name} restarted")
            cluster.wait_for(lambda: _healthy(gateway_a), 300, "gateway A back")
            output = cluster.output.read_text()
            assert "gateway-1 exited unexpectedly" in output and "rasa-1 exited unexpectedly" in output

    asyncio.run(scenario())


def _healthy(gateway: str) -> bool:
    try:
        return request("GET", f"{gateway}/healthz").status == 200
    except OSError:  # not listening yet
        return False


def _nothing_lost(cluster: Launched, sender: str, said: list[str], chatters: list[Chatter]) -> None:
    recorded = _customer_texts(cluster.settings, [sender, *(chatter.sender for chatter in chatters)])
    assert recorded[sender] == said  # every message the customer sent, once, in order
    for chatter in chatters:
        # every message a gateway acknowledged is recorded once, in order; one the balancer reported failed
        # (its gateway died with it in hand) may have been recorded before the gateway died, never twice
        texts = recorded[chatter.sender]
        assert [t for t in texts if t in chatter.acknowledged] == chatter.acknowledged, (texts, chatter)
        assert all(texts.count(t) == 1 for t in texts) and set(texts) <= {*chatter.acknowledged, *chatter.failed}
        assert len(chatter.acknowledged) + len(chatter.failed) == CHATTER_MESSAGES
