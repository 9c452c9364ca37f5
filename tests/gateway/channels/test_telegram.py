"""The Telegram channel against a local fake Bot API: the webhook through the gateway app (real database,
Rasa unreachable, so the bot's answer is the inbox's BOT_UNAVAILABLE), and the relay sender on its own.
Update payloads are recorded examples from the Bot API documentation (data/telegram/README.md).
The round trip with the real Rasa is in tests/integration."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, update

from conversations.models import Author, Conversation, Message, MessageStatus, Owner
from conversations.transcript import append_messages, get_or_create_conversation, pressed_button
from gateway.app import create_app
from gateway.channels.relay import DeliveryError, relay_key
from gateway.channels.telegram import channel as telegram
from gateway.channels.telegram.api import RateLimiter, TelegramApi
from gateway.channels.telegram.channel import TelegramChannel, telegram_key
from gateway.channels.telegram.render import MAX_TEXT, split_text
from griddesk.db import session_scope
from griddesk.settings import Secret
from handoff import messages
from knowledge_base.search import KnowledgeBase
from tests.encoders import HashingEncoder
from tests.gateway.channels.fake_telegram import (
    FakeTelegram,
    blocked,
    rate_limited,
    server_error,
)

TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
SECRET = "s3cret_Token-42"
WEBHOOK = "/webhooks/telegram"
DATA = Path(__file__).parent / "data" / "telegram"
CHAT = 1111111
SENDER = f"tg:{CHAT}"
_update_ids = iter(range(20_000, 1_000_000))


def recorded(name: str, **changes: Any) -> dict[str, Any]:
    """A recorded update with its own update_id; ``text=…`` or ``data=…`` replace the message text or button data."""
    body = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    body["update_id"] = next(_update_ids)
    if "text" in changes:
        body["message"]["text"] = changes["text"]
    if "data" in changes:
        body["callback_query"]["data"] = changes["data"]
    return body


def stored() -> list[tuple[str, Author, str | None]]:
    with session_scope() as session:
        rows = session.execute(
            select(Conversation.sender_id, Message.author, Message.text).join(Conversation).order_by(Message.id)
        )
        return [(sender, author, text) for sender, author, text in rows]


def pressed_payloads() -> list[str | None]:
    """What the customer's button presses sent (kept beside the title the transcript shows)."""
    with session_scope() as session:
        return [pressed_button(m) for m in session.scalars(select(Message).order_by(Message.id)) if pressed_button(m)]


@pytest.fixture
async def fake(aiohttp_server):
    fake = FakeTelegram(TOKEN)
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
async def gateway(aiohttp_client, gateway_settings, fake):
    settings = dataclasses.replace(
        gateway_settings,
        telegram_token=Secret(TOKEN),
        telegram_secret=Secret(SECRET),
        telegram_api_url=fake.url,
        queue_sweep_seconds=3600,
    )
    kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
    app = create_app(settings, knowledge_base=kb, warm_index=False, watch_overdue=False)
    assert telegram_key in app  # create_app mounts a configured channel
    client = await aiohttp_client(app)
    client.app[telegram_key].limiter.per_chat_interval = 0.0
    return client


async def post(client, body: object, secret: str | None = SECRET):
    headers = {telegram.SECRET_HEADER: secret} if secret is not None else {}
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return await client.post(WEBHOOK, data=io.BytesIO(data), headers={"Content-Type": "application/json", **headers})


# -- the webhook -----------------------------------------------------------------------------------


async def test_a_text_message_reaches_the_inbox_and_the_answer_goes_back_through_the_bot_api(gateway, fake):
    response = await post(gateway, recorded("message_text", text="宽带断网了怎么办"))
    assert response.status == 200
    [sent] = await fake.wait_for(1)
    assert sent == {"chat_id": CHAT, "text": messages.BOT_UNAVAILABLE}
    assert stored() == [
        (SENDER, Author.CUSTOMER, "宽带断网了怎么办"),
        (SENDER, Author.SYSTEM, messages.BOT_UNAVAILABLE),
    ]
    with session_scope() as session:
        conversation = session.scalars(select(Conversation)).one()
        assert conversation.channel == "telegram"
        assert conversation.profile == {"name": "Test Firstname Test Lastname"}


async def test_start_greets_through_the_bots_greet_intent(gateway, fake):
    response = await post(gateway, recorded("start_command"))  # the guide's example: a chat without "type"
    assert response.status == 200
    assert stored()[0] == (SENDER, Author.CUSTOMER, "/greet")


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x"])
async def test_a_missing_or_forged_secret_is_refused_and_nothing_is_taken(gateway, fake, secret):
    response = await post(gateway, recorded("message_text", text="你好"), secret=secret)
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "invalid_secret"
    await asyncio.sleep(0.3)
    assert stored() == [] and fake.calls == []


@pytest.mark.parametrize(
    "body, code",
    [
        (b"", "invalid_json"),
        (b"{not json", "invalid_json"),
        (b"\xff\xfe\x00", "invalid_json"),
        (b"[1, 2]", "invalid_body"),
        (b'"update"', "invalid_body"),
        (b'{"message": {"text": "hi", "chat": {"id": 1, "type": "private"}}}', "invalid_update"),
        (b'{"update_id": "7", "message": {}}', "invalid_update"),
        (b'{"update_id": true}', "invalid_update"),
    ],
)
async def test_a_malformed_update_gets_a_json_400_and_nothing_is_taken(gateway, fake, body, code):
    response = await post(gateway, body)
    assert response.status == 400
    assert (await response.json())["error"]["code"] == code
    assert stored() == [] and fake.calls == []


async def test_an_update_over_one_megabyte_is_refused(gateway, fake):
    body = recorded("message_text", text="长" * 10)
    body["padding"] = "x" * (1024 * 1024)
    response = await post(gateway, body)
    assert response.status == 413 and (await response.json())["error"]["code"] == "payload_too_large"
    assert stored() == []


async def test_odd_shapes_inside_a_valid_update_are_answered_200_and_ignored(gateway, fake):
    for body in (
        {"update_id": next(_update_ids), "message": "text"},
        {"update_id": next(_update_ids), "message": {"chat": {"id": "x"}, "text": "hi"}},
        {"update_id": next(_update_ids), "callback_query": {"data": "1:0"}},
    ):
        response = await post(gateway, body)
        assert response.status == 200 and "ignored" in await response.json()
    assert stored() == []


async def test_a_replayed_update_is_answered_200_and_taken_once(gateway, fake):
    body = recorded("message_text", text="第一次")
    assert (await post(gateway, body)).status == 200
    replay = await post(gateway, body)
    assert replay.status == 200 and (await replay.json())["ignored"] == "replay"
    assert [text for _, author, text in stored() if author == Author.CUSTOMER] == ["第一次"]


@pytest.mark.parametrize(
    "name, kind",
    [
        ("sticker", "sticker"),
        ("photo", "photo"),
        ("voice", "voice"),
        ("audio", "audio"),
        ("document", "document"),
        ("location", "location"),
        ("edited_message", "edited_message"),
    ],
)
async def test_what_is_not_text_gets_the_polite_reply_and_is_recorded(gateway, fake, name, kind):
    response = await post(gateway, recorded(name))
    assert response.status == 200
    [sent] = await fake.wait_for(1)
    assert sent == {"chat_id": CHAT, "text": messages.UNSUPPORTED_MESSAGE}
    assert stored() == [(SENDER, Author.CUSTOMER, f"[{kind}]"), (SENDER, Author.SYSTEM, messages.UNSUPPORTED_MESSAGE)]


@pytest.mark.parametrize("name", ["group_message", "inline_query"])
async def test_group_chats_and_inline_queries_are_ignored(gateway, fake, name):
    response = await post(gateway, recorded(name))
    assert response.status == 200 and "ignored" in await response.json()
    await asyncio.sleep(0.3)
    assert stored() == [] and fake.calls == []


def _queued_conversation() -> None:
    """The customer waits in a queue: the gateway answers with the queue status and its buttons, without Rasa."""
    with session_scope() as session:
        conversation = get_or_create_conversation(session, SENDER, "telegram")
        session.execute(update(Conversation).where(Conversation.id == conversation.id).values(owner=Owner.QUEUED))


async def test_queue_buttons_become_an_inline_keyboard_and_a_press_is_answered_and_taken(gateway, fake):
    _queued_conversation()
    assert (await post(gateway, recorded("message_text", text="还要等多久"))).status == 200
    [notice] = await fake.wait_for(1)
    assert "人工客服接入后会看到" in notice["text"]
    rows = notice["reply_markup"]["inline_keyboard"]
    assert [[b["text"] for b in row] for row in rows] == [[b["title"]] for b in messages.QUEUE_BUTTONS]
    back = rows[2][0]["callback_data"]
    assert len(back.encode()) <= 64

    response = await post(gateway, recorded("callback_query", data=back))
    assert response.status == 200
    assert fake.sent("answerCallbackQuery") == [{"callback_query_id": "4382bfdwdsb323b2d9"}]
    assert fake.sent("editMessageReplyMarkup") == [
        {"chat_id": CHAT, "message_id": 1365, "reply_markup": {"inline_keyboard": []}}
    ]  # the pressed keyboard is gone: it cannot be pressed twice
    customer = [text for _, author, text in stored() if author == Author.CUSTOMER]
    assert customer == ["还要等多久", "返回智能助手"]  # the press is kept as the button's title…
    assert pressed_payloads() == [messages.BACK_TO_BOT_PAYLOAD]  # …and what it sent
    replies = await fake.wait_for(2)
    assert replies[1]["text"] == messages.BACK_TO_BOT
    with session_scope() as session:
        assert session.scalar(select(Conversation.owner)) == Owner.BOT


async def test_a_typed_number_picks_that_button_of_the_last_message(gateway, fake):
    _queued_conversation()
    await post(gateway, recorded("message_text", text="还要等多久"))
    await post(gateway, recorded("message_text", text="3"))
    assert [text for _, author, text in stored() if author == Author.CUSTOMER][-1] == "返回智能助手"
    assert pressed_payloads() == [messages.BACK_TO_BOT_PAYLOAD]


@pytest.mark.parametrize(
    "name, data",
    [
        ("callback_query", "Data from button callback"),
        ("callback_query", "99:0"),
        ("callback_query_inline", "Data from button callback"),
    ],
)
async def test_a_press_on_an_unknown_button_stops_the_spinner_and_nothing_else(gateway, fake, name, data):
    response = await post(gateway, recorded(name, data=data))
    assert response.status == 200
    assert fake.sent("answerCallbackQuery") == [{"callback_query_id": "4382bfdwdsb323b2d9"}]
    assert stored() == []


async def test_the_webhook_is_not_mounted_without_a_token(aiohttp_client, gateway_settings):
    kb = KnowledgeBase(gateway_settings, HashingEncoder(), refresh_seconds=0)
    app = create_app(gateway_settings, knowledge_base=kb, warm_index=False, watch_overdue=False)
    telegram.setup(app)
    client = await aiohttp_client(app)
    assert (await post(client, recorded("message_text"))).status == 404
    assert "telegram" not in app[relay_key].senders


# -- the sender (what the relay calls) --------------------------------------------------------------


@pytest.fixture
async def channel(fake):
    channel = TelegramChannel(TOKEN, SECRET, fake.url, RateLimiter(per_chat_interval=0.0))
    async with aiohttp.ClientSession() as session:
        channel.api = TelegramApi(session, fake.url, TOKEN, channel.limiter, backoff_seconds=0.01)
        yield channel


def entry(seq: int, text: str, buttons: list[dict[str, str]] | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"recipient_id": SENDER, "text": text}
    if buttons:
        payload["buttons"] = buttons
    return {"seq": seq, "author": "bot", "text": text, "payload": payload, "created_at": "2025-01-01T00:00:00"}


async def test_buttons_are_sent_as_an_inline_keyboard_whose_data_fits_64_bytes(channel, fake):
    long_payload = '/choose_faq{"faq_id": "' + "f" * 80 + '"}'
    await channel.send(
        SENDER,
        entry(
            7,
            "您是想问:",
            [{"title": "如何开具发票", "payload": long_payload}, {"title": "都不是", "payload": "/none_of_these"}],
        ),
    )
    [sent] = fake.sent()
    assert sent["chat_id"] == CHAT and sent["text"] == "您是想问:"
    assert sent["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "如何开具发票", "callback_data": "7:0"}],
            [{"text": "都不是", "callback_data": "7:1"}],
        ]
    }


async def test_a_press_on_an_old_keyboard_still_means_what_it_showed(gateway, fake):
    with session_scope() as session:
        conversation = get_or_create_conversation(session, SENDER, "telegram")
        append_messages(
            session,
            conversation.id,
            [
                (
                    Author.BOT,
                    "您是想问:",
                    {"text": "您是想问:", "buttons": [{"title": "退款", "payload": "/griddesk_keep_waiting"}]},
                    MessageStatus.SENT,
                ),
                (
                    Author.BOT,
                    "请选择:",
                    {"text": "请选择:", "buttons": [{"title": "换一个", "payload": "/none_of_these"}]},
                    MessageStatus.SENT,
                ),
            ],
        )
    await post(gateway, recorded("callback_query", data="1:0"))  # the first message's button
    assert stored()[-2][2] == "退款"
    assert pressed_payloads() == [messages.KEEP_WAITING]


async def test_a_press_on_a_keyboard_of_a_past_turn_sends_nothing_and_says_so(gateway, fake):
    _queued_conversation()
    await post(gateway, recorded("message_text", text="还要等多久"))
    [notice] = await fake.wait_for(1)
    back = notice["reply_markup"]["inline_keyboard"][2][0]["callback_data"]
    await post(gateway, recorded("message_text", text="我再补充一句"))  # the customer moved on: a new turn
    before = stored()

    response = await post(gateway, recorded("callback_query", data=back))

    assert response.status == 200
    assert stored() == before and pressed_payloads() == []
    [answered] = fake.sent("answerCallbackQuery")
    assert answered["text"] == telegram.STALE_BUTTONS
    assert fake.sent("editMessageReplyMarkup")[0]["reply_markup"] == {"inline_keyboard": []}
    with session_scope() as session:
        assert session.scalar(select(Conversation.owner)) == Owner.QUEUED  # 返回智能助手 was not taken


async def test_a_long_text_is_split_into_messages_within_telegrams_limit(channel, fake):
    text = "\n".join(f"第 {i} 段:" + "宽带故障排查步骤说明。" * 40 for i in range(25))
    await channel.send(SENDER, entry(3, text, [{"title": "有帮助", "payload": "/affirm"}]))
    parts = fake.sent()
    assert len(parts) == 3
    assert all(len(p["text"]) <= MAX_TEXT for p in parts)
    assert "\n".join(p["text"] for p in parts) == text
    assert [("reply_markup" in p) for p in parts] == [False, False, True]


def test_splitting_counts_utf16_units_and_prefers_line_ends():
    assert split_text("a" * 10 + "\n" + "b" * 5, limit=12) == ["a" * 10, "b" * 5]
    emoji = "😀" * 5  # two UTF-16 units each
    assert split_text(emoji, limit=4) == ["😀😀", "😀😀", "😀"]
    assert split_text("短消息") == ["短消息"]


async def test_a_429_waits_the_retry_after_telegram_asks_for(channel, fake):
    fake.answer("sendMessage", rate_limited(1))
    await channel.send(SENDER, entry(1, "您好"))
    first, second = [c for c in fake.calls if c.method == "sendMessage"]
    assert second.body == first.body
    assert second.at - first.at >= 0.95


async def test_server_errors_are_retried_three_times_then_left_to_the_relay(channel, fake):
    fake.answer("sendMessage", server_error(), server_error(), server_error())
    with pytest.raises(DeliveryError):
        await channel.send(SENDER, entry(1, "您好"))
    assert len(fake.sent()) == 3
    fake.answer("sendMessage", server_error())
    await channel.send(SENDER, entry(1, "您好"))  # one failure, then success
    assert len(fake.sent()) == 5


async def test_an_unreachable_api_is_a_delivery_error(closed_port_url):
    channel = TelegramChannel(TOKEN, SECRET, closed_port_url, RateLimiter(per_chat_interval=0.0))
    async with aiohttp.ClientSession() as session:
        channel.api = TelegramApi(session, closed_port_url, TOKEN, channel.limiter, backoff_seconds=0.01)
        with pytest.raises(DeliveryError):
            await channel.send(SENDER, entry(1, "您好"))


@pytest.fixture
def closed_port_url() -> str:
    from tests.gateway_client import closed_port

    return f"http://127.0.0.1:{closed_port()}"


async def test_a_user_who_blocked_the_bot_is_dropped_without_retrying(channel, fake):
    fake.answer("sendMessage", blocked())
    await channel.send(SENDER, entry(1, "您好"))  # no DeliveryError: the relay moves on
    assert len(fake.sent()) == 1


async def test_after_a_failure_mid_way_only_the_rest_of_a_long_message_is_sent(channel, fake):
    text = "甲" * MAX_TEXT + "乙" * 10
    fake.answer("sendMessage", (200, {"ok": True, "result": {}}), server_error(), server_error(), server_error())
    with pytest.raises(DeliveryError):
        await channel.send(SENDER, entry(5, text))
    await channel.send(SENDER, entry(5, text))
    assert [p["text"] for p in fake.sent()] == ["甲" * MAX_TEXT] + ["乙" * 10] * 4


async def test_messages_to_one_chat_are_a_second_apart_and_other_chats_do_not_wait(channel, fake):
    channel.limiter.per_chat_interval = 1.0
    started = time.monotonic()
    await channel.send("tg:1", entry(1, "一"))
    await channel.send("tg:2", entry(1, "二"))
    assert time.monotonic() - started < 0.5
    await channel.send("tg:1", entry(2, "三"))
    times = [c.at for c in fake.calls]
    assert times[2] - times[0] >= 0.95


async def test_the_overall_rate_is_capped_per_window():
    limiter = RateLimiter(per_chat_interval=0.0, per_window=3, window=0.3)
    started = time.monotonic()
    await asyncio.gather(*[limiter.acquire(chat) for chat in range(7)])
    assert time.monotonic() - started >= 0.6  # 3 now, 3 after one window, 1 after two


async def test_messages_for_non_telegram_senders_are_dropped(channel, fake):
    await channel.send("web-session-1", entry(1, "您好"))
    assert fake.calls == []


async def test_a_message_over_the_limit_is_refused_with_a_clear_reply_never_cut_and_passed_on(gateway, fake):
    response = await post(gateway, recorded("message_text", text="长" * 2001))  # the limit is 2000
    assert response.status == 200
    [sent] = await fake.wait_for(1)
    assert sent == {"chat_id": CHAT, "text": messages.message_too_long(2000)}
    assert sent["text"] == "消息过长，请分几次发送（每条最多 2000 个字）。"
    assert stored() == [
        (SENDER, Author.CUSTOMER, "[过长的消息：2001 字，未发送]"),
        (SENDER, Author.SYSTEM, messages.message_too_long(2000)),
    ]
