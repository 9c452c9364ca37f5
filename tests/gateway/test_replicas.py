"""Two gateway processes on one database and one real Redis server (``GRIDDESK_REDIS_URL``) behave as one product:
two gateway applications, each on its own loopback port, stand for two ``python -m gateway`` replicas behind a load
balancer. Runs on PostgreSQL too (``--db=postgresql``)."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from conversations.hub import RedisHub, hub_key
from conversations.models import Author, Conversation, Message
from gateway.app import create_app
from gateway.channels.relay import relay_key
from gateway.channels.socketio import SharedSessions, socketio_key
from gateway.channels.telegram import channel as telegram
from gateway.channels.wecom.channel import wecom_key
from griddesk.db import session_scope
from griddesk.settings import RateLimits, Secret, Settings
from handoff import messages
from knowledge_base.search import KnowledgeBase
from tests.encoders import HashingEncoder
from tests.gateway.channels.fake_telegram import FakeTelegram
from tests.gateway.channels.fake_wecom import FakeWeCom
from tests.gateway.channels.test_socketio import Widget
from tests.gateway.channels.test_wecom import PATH as WECOM_PATH
from tests.gateway.channels.test_wecom import callback, message_xml, wecom_settings
from tests.ids import web_id

WAIT = 10.0
TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
SECRET = "s3cret_Token-42"

Start = Callable[..., Awaitable[TestClient]]


@pytest.fixture
async def fake_telegram(aiohttp_server) -> FakeTelegram:
    fake = FakeTelegram(TOKEN)
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    return fake


@pytest.fixture
async def fake_wecom(aiohttp_server) -> FakeWeCom:
    fake = FakeWeCom()
    await fake.start(aiohttp_server)
    return fake


MESSAGES_PER_CONVERSATION = 3  # low, to see the count shared; no other test here sends more to one conversation


@pytest.fixture
def replica_settings(
    gateway_settings: Settings, redis_url: str, fake_telegram: FakeTelegram, fake_wecom: FakeWeCom
) -> Settings:
    return dataclasses.replace(
        wecom_settings(gateway_settings, fake_wecom.url),
        redis_url=redis_url,
        rate=dataclasses.replace(RateLimits(), messages_per_conversation=MESSAGES_PER_CONVERSATION),
        telegram_token=Secret(TOKEN),
        telegram_secret=Secret(SECRET),
        telegram_api_url=fake_telegram.url,  # type: ignore[attr-defined]
    )


@pytest.fixture
async def replicas(replica_settings, aiohttp_client) -> AsyncIterator[tuple[TestClient, TestClient]]:
    """Gateway A, then gateway B: same settings, same database, same Redis."""
    started = []
    for _ in range(2):
        kb = KnowledgeBase(replica_settings, HashingEncoder(), refresh_seconds=0)
        app = create_app(replica_settings, knowledge_base=kb, warm_index=False, watch_overdue=False)
        started.append(await aiohttp_client(app))
    for client in started:
        hub = client.app[hub_key]
        assert isinstance(hub, RedisHub) and hub.linked.is_set()
    yield started[0], started[1]


def transcript(sender: str) -> list[tuple[Author, str | None]]:
    with session_scope() as session:
        rows = session.execute(
            select(Message.author, Message.text).join(Conversation).where(Conversation.sender_id == sender)
        )
        return [(author, text) for author, text in rows]


async def test_a_message_sent_to_one_gateway_reaches_the_customers_live_socket_on_the_other(replicas):
    a, b = replicas
    sender = web_id("replicas")
    async with b.ws_connect("/webhooks/rest/live", params={"sender": sender}) as live:
        assert (await live.receive_json(timeout=WAIT))["type"] == "status"
        response = await a.post("/webhooks/rest/webhook", json={"sender": sender, "message": "宽带断网了"})
        assert response.status == 200
        # the customer's own words and the answer A gave (Rasa is unreachable here: the apology), live on B
        assert await live_messages(live, 2) == [("customer", "宽带断网了"), ("system", messages.BOT_UNAVAILABLE)]


async def live_messages(live, count: int) -> list[tuple[str, str]]:
    """The (author, text) of the next ``count`` messages on a customer's live socket (other events skipped)."""
    seen = []
    while len(seen) < count:
        event = await live.receive_json(timeout=WAIT)
        if event["type"] == "message":
            seen.append((event["message"]["author"], event["message"]["text"]))
    return seen


async def test_a_queue_change_in_one_gateway_gives_a_customer_waiting_on_the_other_their_place(replicas):
    # which customers listen is not known across processes (the hub's subscribers are each process's own):
    # with Redis every waiting customer's place is computed and sent, and B delivers it to the one listening
    from handoff.live import publish_queue_change
    from tests.factories import make_handoff

    a, b = replicas
    sender = web_id("waiting")
    with session_scope() as session:
        make_handoff(session, sender)
    async with b.ws_connect("/webhooks/rest/live", params={"sender": sender}) as live:
        on_connecting = await next_status(live)  # after the transcript so far
        assert on_connecting["owner"] == "queued"
        await publish_queue_change(a.app, ["cd-wuhou"])  # e.g. A's console took or ended a chat
        assert await live.receive_json(timeout=WAIT) == on_connecting  # its place, pushed again from A
        assert on_connecting["position"] == 1


async def next_status(live) -> dict:
    while (event := await live.receive_json(timeout=WAIT))["type"] != "status":
        pass
    return event


async def test_a_socketio_message_emitted_by_one_gateway_reaches_a_widget_connected_to_the_other(replicas):
    a, b = replicas
    widget = Widget()
    await widget.connect(str(b.make_url("")).rstrip("/"))
    try:
        session_id = await widget.session(None)
        entry = {"seq": 1, "author": "agent", "text": "您好,我是小王", "payload": None, "created_at": ""}
        await a.app[socketio_key].send(session_id, entry)  # A's relay sender; the socket is B's
        assert await widget.next() == {"text": "您好,我是小王"}
        # and a message typed on B goes to the bot, whose answer comes back through whichever relay runs
        await widget.say("宽带断网了", session_id)
        assert await widget.next() == {"text": messages.BOT_UNAVAILABLE}
    finally:
        await widget.sio.disconnect()


async def test_what_one_gateway_relays_while_the_widget_reconnects_reaches_it_on_the_other(replicas):
    a, b = replicas
    session_id = web_id("reload")
    entry = {"seq": 1, "author": "agent", "text": "请稍等,我查一下", "payload": None, "created_at": ""}
    await a.app[socketio_key].send(session_id, entry)  # nobody connected anywhere: kept, in Redis
    widget = Widget()
    await widget.connect(str(b.make_url("")).rstrip("/"))
    try:
        assert await widget.session(session_id) == session_id
        assert await widget.next() == {"text": "请稍等,我查一下"}
    finally:
        await widget.sio.disconnect()
    sessions = a.app[socketio_key].sessions
    assert isinstance(sessions, SharedSessions)
    room = sessions._room(session_id)

    async def gone() -> None:
        while await sessions.redis.scard(room):
            await asyncio.sleep(0.05)

    await asyncio.wait_for(gone(), WAIT)  # B has seen the socket go
    # gone from B, so the next one waits again rather than going to a socket that left
    await a.app[socketio_key].send(session_id, {**entry, "seq": 2, "text": "查到了"})
    assert await sessions.take_missed(session_id) == [{"text": "查到了"}]


async def test_a_telegram_update_replayed_to_the_other_gateway_is_ignored(replicas, fake_telegram):
    a, b = replicas
    body, headers, chat = telegram_update(987_654, "宽带断网了")
    first = await a.post("/webhooks/telegram", data=io.BytesIO(body), headers=headers)
    assert first.status == 200 and (await first.json()) == {"ok": True}
    again = await b.post("/webhooks/telegram", data=io.BytesIO(body), headers=headers)
    assert again.status == 200 and (await again.json()) == {"ok": True, "ignored": "replay"}
    customer_said = [text for author, text in transcript(f"tg:{chat}") if author == Author.CUSTOMER]
    assert customer_said == ["宽带断网了"]


async def test_a_wecom_message_replayed_to_the_other_gateway_is_handled_once(replicas):
    a, b = replicas
    params, body = callback(message_xml("lisi", content="你好", msg_id="424242"))
    for gateway in (a, b):  # WeCom's retry, sent by the load balancer to the other replica
        response = await gateway.post(WECOM_PATH, params=params, data=body.encode("utf-8"))
        assert response.status == 200
        await gateway.app[wecom_key].idle()
    customer_said = [text for author, text in transcript("wecom:lisi") if author == Author.CUSTOMER]
    assert customer_said == ["你好"]


async def test_the_rate_limit_of_a_conversation_counts_what_every_gateway_received(replicas):
    a, b = replicas
    sender = web_id("limits")
    for n in range(MESSAGES_PER_CONVERSATION):
        gateway = (a, b)[n % 2]
        response = await gateway.post("/webhooks/rest/webhook", json={"sender": sender, "message": f"第{n}条"})
        assert response.status == 200, await response.text()
    for gateway in (a, b):  # the limit is reached across both: each refuses the next one
        refused = await gateway.post("/webhooks/rest/webhook", json={"sender": sender, "message": "还有一条"})
        assert refused.status == 429 and "Retry-After" in refused.headers
    assert len([text for author, text in transcript(sender) if author == Author.CUSTOMER]) == 3


def telegram_update(update_id: int, text: str) -> tuple[bytes, dict[str, str], int]:
    """The body and headers Telegram would POST for a text message (``update_id``, ``text``), and its chat id."""
    data = Path(__file__).parent / "channels" / "data" / "telegram" / "message_text.json"
    update = json.loads(data.read_text(encoding="utf-8"))
    update["update_id"] = update_id
    update["message"]["text"] = text
    headers = {telegram.SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    return json.dumps(update, ensure_ascii=False).encode(), headers, update["message"]["chat"]["id"]


async def test_the_relay_runs_in_one_gateway_and_the_other_takes_over_when_it_stops(replicas):
    from griddesk.leases import JobLease

    def holder() -> str | None:
        with session_scope() as session:
            lease = session.get(JobLease, "channel relay")
            return lease.holder if lease is not None else None

    await asyncio.wait_for(_until(lambda: holder() is not None), WAIT)
    first = holder()
    relaying, other = sorted(replicas, key=lambda replica: replica.app[relay_key].lease.holder != first)
    assert relaying.app[relay_key].lease.holder == first  # one of them, and only one, relays
    await relaying.close()  # it stops: it gives its leases back
    await asyncio.wait_for(_until(lambda: holder() == other.app[relay_key].lease.holder), WAIT)  # taken over
    widget = Widget()
    await widget.connect(str(other.make_url("")).rstrip("/"))
    try:
        session_id = await widget.session(None)
        await widget.say("还在吗", session_id)
        assert await widget.next() == {"text": messages.BOT_UNAVAILABLE}  # relayed by the other now
    finally:
        await widget.sio.disconnect()


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.05)
