"""The Socket.IO channel in Rasa's protocol, driven by a python-socketio client as rasa-webchat drives it
(the real rasa-webchat bundle in a browser is in tests/integration/test_webchat_browser.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp import web
from sqlalchemy import select

from conversations.models import Author, Conversation, Message, MessageStatus
from conversations.transcript import append_messages, get_or_create_conversation
from gateway.app import create_app
from gateway.channels.relay import relay_key
from gateway.channels.socketio import (
    bot_utterances,
    cors_policy,
    metadata_of,
    socketio_key,
)
from griddesk.db import session_scope
from handoff import messages
from knowledge_base.search import KnowledgeBase
from tests.encoders import HashingEncoder
from tests.ids import web_id

TIMEOUT = 5.0


class FakeRasa:
    """Rasa's REST channel: answers every message with a text and two buttons; records what it got."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        return web.json_response(
            [
                {"recipient_id": body["sender"], "text": f"您问的是:{body['message']}"},
                {
                    "recipient_id": body["sender"],
                    "text": "还想了解哪个?",
                    "buttons": [{"title": "发票", "payload": "/faq_invoice"}, {"title": "都不是", "payload": "/none"}],
                },
            ]
        )


@pytest.fixture
async def rasa(aiohttp_server) -> FakeRasa:
    fake = FakeRasa()
    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", fake.webhook)
    fake.server = await aiohttp_server(app)  # type: ignore[attr-defined]
    return fake


@pytest.fixture
async def gateway(aiohttp_client, settings, rasa) -> str:
    """The gateway (with the Socket.IO channel as create_app mounts it) on a loopback port; its base URL."""
    gateway_settings = dataclasses.replace(
        settings,
        rasa_url=str(rasa.server.make_url("")).rstrip("/"),
        rasa_timeout=2.0,
        widget_origins="https://shop.example.com",
    )
    kb = KnowledgeBase(gateway_settings, HashingEncoder(), refresh_seconds=0)
    app = create_app(gateway_settings, knowledge_base=kb, warm_index=False, watch_overdue=False, sweep_queues=False)
    client = await aiohttp_client(app)
    return str(client.make_url("")).rstrip("/")


class Widget:
    """A Socket.IO client speaking like rasa-webchat: session_request, user_uttered, bot_uttered."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        for event in ("session_confirm", "bot_uttered"):
            self.sio.on(event, self._recorder(event))

    def _recorder(self, event: str):  # type: ignore[no-untyped-def]
        async def record(data: Any) -> None:
            await self.events.put((event, data))

        return record

    async def connect(self, url: str) -> None:
        await self.sio.connect(url, socketio_path="socket.io", transports=["websocket"])

    async def session(self, session_id: str | None = None) -> str:
        await self.sio.emit("session_request", {"session_id": session_id})
        return await self.next("session_confirm")

    async def say(self, text: Any, session_id: str, **extra: Any) -> None:
        await self.sio.emit("user_uttered", {"message": text, "session_id": session_id, **extra})

    async def next(self, event: str = "bot_uttered") -> Any:
        name, data = await asyncio.wait_for(self.events.get(), TIMEOUT)
        assert name == event, (name, data)
        return data

    async def utterances(self, count: int) -> list[Any]:
        return [await self.next() for _ in range(count)]

    async def nothing_more(self, seconds: float = 0.5) -> None:
        await asyncio.sleep(seconds)
        assert self.events.empty(), self.events.get_nowait()


@pytest.fixture
async def widgets(gateway) -> AsyncIterator[list[Widget]]:
    opened: list[Widget] = []

    async def factory() -> Widget:
        widget = Widget()
        await widget.connect(gateway)
        opened.append(widget)
        return widget

    yield factory  # type: ignore[misc]
    for widget in opened:
        await widget.sio.disconnect()


def transcript_of(sender: str) -> tuple[str | None, list[tuple[str, str | None]]]:
    with session_scope() as session:
        conversation = session.scalar(select(Conversation).where(Conversation.sender_id == sender))
        if conversation is None:
            return None, []
        rows = session.scalars(select(Message).where(Message.conversation_id == conversation.id).order_by(Message.seq))
        return conversation.channel, [(str(m.author), m.text) for m in rows]


# -- the protocol ----------------------------------------------------------------------------


async def test_a_session_request_without_an_id_is_confirmed_with_a_new_one(widgets):
    widget = await widgets()
    first = await widget.session(None)
    assert isinstance(first, str) and len(first) == 32
    other = await widgets()
    assert await other.session() != first


BUTTONS_REPLY = {
    "text": "还想了解哪个?",
    "quick_replies": [
        {"content_type": "text", "title": "发票", "payload": "/faq_invoice"},
        {"content_type": "text", "title": "都不是", "payload": "/none"},
    ],
}


async def test_a_customer_message_is_recorded_as_socketio_and_the_bot_answers_with_quick_replies(widgets, rasa):
    widget = await widgets()
    session_id = await widget.session()
    await widget.say("怎么开发票", session_id, customData={"customer": {"region": "成都市武侯区"}, "language": "zh"})
    assert await widget.utterances(2) == [{"text": "您问的是:怎么开发票"}, BUTTONS_REPLY]
    [received] = rasa.received
    client = received["metadata"].pop("griddesk_client")  # the gateway's keyed hash of the socket's address
    assert re.fullmatch(r"[0-9a-f]{32}", client)
    assert received == {
        "sender": session_id,
        "message": "怎么开发票",
        # customData goes on to Rasa, except an unverified customer: only the gateway's verified one
        "metadata": {"language": "zh", "griddesk_customer": {}},
    }
    channel, said = transcript_of(session_id)
    assert channel == "socketio"
    assert said == [("customer", "怎么开发票"), ("bot", "您问的是:怎么开发票"), ("bot", "还想了解哪个?")]
    await widget.nothing_more()  # each message once: the relay alone sends, not also the inbox


async def test_a_session_over_its_message_limit_is_told_so_and_nothing_reaches_the_bot(aiohttp_client, settings, rasa):
    limited = dataclasses.replace(
        settings,
        rasa_url=str(rasa.server.make_url("")).rstrip("/"),
        rate=dataclasses.replace(settings.rate, messages_per_conversation=2),
    )
    kb = KnowledgeBase(limited, HashingEncoder(), refresh_seconds=0)
    app = create_app(limited, knowledge_base=kb, warm_index=False, watch_overdue=False, sweep_queues=False)
    client = await aiohttp_client(app)
    widget = Widget()
    await widget.connect(str(client.make_url("")).rstrip("/"))
    try:
        session_id = await widget.session()
        for text in ("第一条", "第二条"):
            await widget.say(text, session_id)
            await widget.utterances(2)
        await widget.say("第三条", session_id)
        assert await widget.next() == {"text": "请求过于频繁，请稍后再试。"}
        await widget.nothing_more()
        assert [m["message"] for m in rasa.received] == ["第一条", "第二条"]
        assert ("customer", "第三条") not in transcript_of(session_id)[1]
    finally:
        await widget.sio.disconnect()


async def test_agent_and_system_messages_written_elsewhere_reach_the_widget_through_the_relay(widgets, rasa):
    widget = await widgets()
    session_id = await widget.session()
    await widget.say("你好", session_id)
    await widget.utterances(2)
    with session_scope() as session:
        conversation = get_or_create_conversation(session, session_id)
        append_messages(
            session,
            conversation.id,
            [
                (Author.AGENT, "您好,我是客服小王", {"agent_name": "小王"}, MessageStatus.SENT),
                (Author.SYSTEM, "已为您转接", {"text": "已为您转接"}, MessageStatus.SENT),
            ],
        )
    # nobody told the relay: its periodic pass finds them (as after a console reply or a ticket notice)
    assert await widget.utterances(2) == [{"text": "您好,我是客服小王"}, {"text": "已为您转接"}]


async def test_a_reconnect_with_the_same_session_id_continues_the_conversation(widgets, rasa):
    first = await widgets()
    session_id = await first.session()
    await first.say("第一句", session_id)
    await first.utterances(2)
    await first.sio.disconnect()  # the page is reloaded

    again = await widgets()
    assert await again.session(session_id) == session_id
    await again.say("第二句", session_id)
    assert await again.utterances(2) == [{"text": "您问的是:第二句"}, BUTTONS_REPLY]
    _, said = transcript_of(session_id)
    assert [text for author, text in said if author == "customer"] == ["第一句", "第二句"]


async def test_what_is_relayed_while_the_widget_reconnects_arrives_after_its_session_request(widgets):
    reloading = web_id("reloading")
    with session_scope() as session:
        conversation = get_or_create_conversation(session, reloading, "socketio")
        append_messages(
            session, conversation.id, [(Author.AGENT, "请稍等,我查一下", {"agent_name": "小王"}, MessageStatus.SENT)]
        )
    await asyncio.sleep(2.5)  # a relay pass finds nobody connected
    widget = await widgets()
    assert await widget.session(reloading) == reloading
    assert await widget.next() == {"text": "请稍等,我查一下"}


async def test_two_sockets_of_one_session_both_get_the_answer(widgets, rasa):
    tab, other_tab = await widgets(), await widgets()
    session_id = await tab.session()
    assert await other_tab.session(session_id) == session_id
    await tab.say("在吗", session_id)
    assert await tab.utterances(2) == await other_tab.utterances(2)


@pytest.mark.parametrize(
    "session_id", ["tg:1234", "wecom:zhangsan", f"tg:{'a1b2' * 8}", "有中文", "x" * 129, 42, ["a"]]
)
async def test_a_session_id_that_could_name_another_channels_customer_is_replaced(widgets, session_id):
    widget = await widgets()
    confirmed = await widget.session(session_id)
    assert confirmed != session_id and len(confirmed) == 32


GUESSABLE = ["1", "test", "reloading0001", "a1" * 12, "00000000-0000-0000-0000-000000000000"]


@pytest.mark.parametrize("session_id", GUESSABLE)
async def test_a_guessable_session_id_is_replaced_by_a_random_one(widgets, session_id):
    widget = await widgets()
    confirmed = await widget.session(session_id)
    assert confirmed != session_id and len(confirmed) == 32


async def test_a_message_naming_a_guessable_session_without_a_session_request_is_ignored(widgets, rasa):
    widget = await widgets()
    await widget.say("直接发", "plainclient01")
    await widget.nothing_more()
    assert rasa.received == [] and transcript_of("plainclient01") == (None, [])


@pytest.fixture
async def legacy_gateway(aiohttp_client, settings, rasa) -> str:
    legacy = dataclasses.replace(
        settings, rasa_url=str(rasa.server.make_url("")).rstrip("/"), rasa_timeout=2.0, legacy_sender_ids=True
    )
    kb = KnowledgeBase(legacy, HashingEncoder(), refresh_seconds=0)
    app = create_app(legacy, knowledge_base=kb, warm_index=False, watch_overdue=False, sweep_queues=False)
    return str((await aiohttp_client(app)).make_url("")).rstrip("/")


async def test_with_legacy_sender_ids_a_short_session_id_is_kept(legacy_gateway, rasa):
    widget = Widget()
    await widget.connect(legacy_gateway)
    try:
        assert await widget.session("plainclient01") == "plainclient01"
        await widget.say("你好", "plainclient01")
        assert await widget.utterances(2) == [{"text": "您问的是:你好"}, BUTTONS_REPLY]
        assert await widget.session("tg:1234") != "tg:1234"  # never a messaging app's conversation
    finally:
        await widget.sio.disconnect()


async def test_a_rest_conversation_is_never_joined_over_socketio(widgets):
    web_customer = web_id("web-customer")
    with session_scope() as session:
        get_or_create_conversation(session, web_customer, "rest")
    widget = await widgets()
    assert await widget.session(web_customer) != web_customer


# -- bad input -------------------------------------------------------------------------------

SOMEONE_ELSE = web_id("someone-else")


@pytest.mark.parametrize(
    "data",
    [
        None,
        "怎么开发票",
        ["怎么开发票"],
        {},
        {"message": ""},
        {"message": "  \n "},
        {"message": "\u0000\u0007"},
        {"message": "你好", "session_id": SOMEONE_ELSE},
    ],
)
async def test_unusable_messages_are_ignored_and_the_socket_keeps_working(widgets, rasa, data):
    widget = await widgets()
    session_id = await widget.session()
    await widget.sio.emit("user_uttered", data)
    await widget.sio.emit("no_such_event", {"message": "hi"})
    await widget.nothing_more()
    assert transcript_of(session_id) == (None, []) and transcript_of(SOMEONE_ELSE) == (None, [])
    await widget.say("还在吗", session_id)
    assert (await widget.next())["text"] == "您问的是:还在吗"


@pytest.mark.parametrize(
    "message, reply",
    [
        (42, messages.UNSUPPORTED_MESSAGE),
        ({"type": "image", "url": "https://example.com/a.png"}, messages.UNSUPPORTED_MESSAGE),
        ("长" * 2001, "消息过长，请分几次发送（每条最多 2000 个字）。"),
    ],
)
async def test_a_non_text_or_too_long_message_gets_a_polite_reply_and_reaches_nobody(
    widgets, rasa, settings, message, reply
):
    assert settings.max_message_chars == 2000
    widget = await widgets()
    session_id = await widget.session()
    await widget.say(message, session_id)
    assert await widget.next() == {"text": reply}
    assert rasa.received == [] and transcript_of(session_id) == (None, [])


async def test_a_packet_over_the_size_limit_closes_only_that_connection(widgets, rasa):
    widget, bystander = await widgets(), await widgets()
    session_id = await bystander.session()
    await widget.sio.emit("user_uttered", {"message": "长" * 40_000, "session_id": "x"})
    await asyncio.sleep(0.5)
    assert not widget.sio.connected
    await bystander.say("你好", session_id)
    assert (await bystander.next())["text"] == "您问的是:你好"


async def test_a_message_before_session_request_joins_the_session_it_names(widgets, rasa):
    widget = await widgets()
    plain_client = web_id("plainclient")
    await widget.say("直接发", plain_client)
    assert (await widget.next())["text"] == "您问的是:直接发"
    assert transcript_of(plain_client)[0] == "socketio"


async def test_when_the_bot_is_down_the_gateways_apology_arrives_as_bot_uttered(widgets, rasa):
    await rasa.server.close()
    widget = await widgets()
    session_id = await widget.session()
    await widget.say("你好", session_id)
    assert await widget.next() == {"text": messages.BOT_UNAVAILABLE}


# -- cross-origin -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "origin, allowed",
    [
        ("https://shop.example.com", True),
        (None, True),
        ("https://evil.example.com", False),
    ],
)
async def test_only_the_widget_origins_may_open_a_socket_from_a_browser(gateway, origin, allowed):
    headers = {"Origin": origin} if origin else {}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{gateway}/socket.io/?EIO=4&transport=polling", headers=headers) as response,
    ):
        assert (response.status == 200) is allowed
        if origin and allowed:
            assert response.headers["Access-Control-Allow-Origin"] == origin


@pytest.fixture
async def default_gateway(aiohttp_client, settings, rasa) -> str:
    """The gateway with the widget origins as loaded from an environment that does not set them."""
    assert settings.widget_origins == ""
    plain = dataclasses.replace(settings, rasa_url=str(rasa.server.make_url("")).rstrip("/"), rasa_timeout=2.0)
    kb = KnowledgeBase(plain, HashingEncoder(), refresh_seconds=0)
    app = create_app(plain, knowledge_base=kb, warm_index=False, watch_overdue=False, sweep_queues=False)
    return str((await aiohttp_client(app)).make_url("")).rstrip("/")


@pytest.mark.parametrize(
    "origin, allowed", [("own", True), (None, True), ("https://shop.example.com", False), ("null", False)]
)
async def test_by_default_only_the_gateways_own_pages_may_open_a_socket_from_a_browser(
    default_gateway, origin, allowed
):
    headers = {"Origin": default_gateway if origin == "own" else origin} if origin else {}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{default_gateway}/socket.io/?EIO=4&transport=polling", headers=headers) as response,
    ):
        assert (response.status == 200) is allowed


async def test_the_gateways_own_pages_may_open_a_socket_besides_the_configured_sites(gateway):
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{gateway}/socket.io/?EIO=4&transport=polling", headers={"Origin": gateway}) as response,
    ):
        assert response.status == 200 and response.headers["Access-Control-Allow-Origin"] == gateway


def test_the_cors_policy_follows_the_widget_origins_setting():
    assert cors_policy("*") == "*"
    allow = cors_policy("https://a.example.com http://b.example.com:8080")
    environ = {"wsgi.url_scheme": "https", "HTTP_HOST": "chat.example.com"}
    assert allow("https://a.example.com", environ) and allow("http://b.example.com:8080", environ)
    assert allow("https://chat.example.com", environ)  # the gateway's own pages
    assert not allow("https://b.example.com", environ)
    assert not cors_policy("")("https://a.example.com", environ)


# -- translation -----------------------------------------------------------------------------


def entry(author: str, text: str | None, payload: dict[str, Any] | None) -> dict[str, Any]:
    return {"seq": 1, "author": author, "text": text, "payload": payload, "created_at": "2026-11-22T08:00:00"}


def test_text_is_split_at_blank_lines_with_the_buttons_on_the_last_part_as_rasa_does():
    reply = {
        "recipient_id": "s",
        "text": "第一段\n\n第二段",
        "buttons": [{"title": "继续等待", "payload": "/griddesk_keep_waiting"}, {"title": "无载荷"}, "junk"],
    }
    assert bot_utterances(entry("system", reply["text"], reply)) == [
        {"text": "第一段"},
        {
            "text": "第二段",
            "quick_replies": [
                {"content_type": "text", "title": "继续等待", "payload": "/griddesk_keep_waiting"},
                {"content_type": "text", "title": "无载荷", "payload": "无载荷"},
            ],
        },
    ]


def test_an_agent_message_is_its_text():
    assert bot_utterances(entry("agent", "您好", {"agent_name": "小王"})) == [{"text": "您好"}]


def test_images_attachments_and_custom_payloads_keep_rasas_socketio_shapes():
    assert bot_utterances(entry("bot", None, {"image": "https://example.com/a.png"})) == [
        {"attachment": {"type": "image", "payload": {"src": "https://example.com/a.png"}}}
    ]
    assert bot_utterances(entry("bot", None, {"attachment": {"type": "video", "payload": {"src": "v"}}})) == [
        {"attachment": {"type": "video", "payload": {"src": "v"}}}
    ]
    assert bot_utterances(entry("bot", None, {"custom": {"kind": "card", "title": "发票"}})) == [
        {"kind": "card", "title": "发票"}
    ]


def test_griddesk_internal_custom_payloads_are_never_sent():
    packet = {"custom": {"griddesk": {"handoff": {"reason": "customer_request"}}}}
    assert bot_utterances(entry("bot", None, packet)) == []
    assert bot_utterances(entry("bot", None, None)) == [] and bot_utterances(entry("bot", "  ", {})) == []


def test_custom_data_becomes_the_metadata_when_it_is_a_small_object():
    assert metadata_of({"customData": {"customer": {"region": "成都"}}}) == {"customer": {"region": "成都"}}
    assert metadata_of({"metadata": '{"language": "zh"}'}) == {"language": "zh"}
    assert metadata_of({"customData": "not json"}) is None and metadata_of({"customData": [1]}) is None
    assert metadata_of({"customData": {"blob": "x" * 5000}}) is None
    assert metadata_of({}) is None


async def test_the_gateway_mounts_the_channel_and_registers_it_with_the_relay(settings):
    app = create_app(
        settings, knowledge_base=KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0), warm_index=False
    )
    assert socketio_key in app and "socketio" in app[relay_key].senders
    assert any(r.resource is not None and r.resource.canonical == "/socket.io/" for r in app.router.routes())
