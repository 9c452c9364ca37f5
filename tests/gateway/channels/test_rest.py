"""The REST channel's input handling and degraded paths (the happy path with the real Rasa is in
tests/integration)."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest
from aiohttp import web
from sqlalchemy import select, update

from conversations.models import Author, Conversation, Message, MessageStatus, Owner
from conversations.transcript import transcript
from gateway.app import create_app
from griddesk.db import session_scope
from handoff import messages
from knowledge_base.search import KnowledgeBase
from tests.encoders import HashingEncoder
from tests.ids import web_id

WEBHOOK = "/webhooks/rest/webhook"
U1, U2, U3, U4, U5 = (web_id(f"u{i}") for i in range(1, 6))
U9 = web_id("u9")


def stored_messages() -> list[Message]:
    with session_scope() as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


@pytest.mark.parametrize(
    "body, status, code",
    [
        (b"", 400, "invalid_json"),
        (b"{not json", 400, "invalid_json"),
        (b"\xff\xfe\x00garbage", 400, "invalid_encoding"),
        (b'["sender", "message"]', 400, "invalid_body"),
        (b'{"message": "hi"}', 422, "invalid_sender"),
        (b'{"sender": 42, "message": "hi"}', 422, "invalid_sender"),
        (b'{"sender": "   ", "message": "hi"}', 422, "invalid_sender"),
        (json.dumps({"sender": "s" * 129, "message": "hi"}).encode(), 422, "invalid_sender"),
        (json.dumps({"sender": U1}).encode(), 422, "invalid_message"),
        (json.dumps({"sender": U1, "message": ["hi"]}).encode(), 422, "invalid_message"),
        (json.dumps({"sender": U1, "message": None}).encode(), 422, "invalid_message"),
        (json.dumps({"sender": U1, "message": ""}).encode(), 422, "empty_message"),
        (json.dumps({"sender": U1, "message": " \n\t "}).encode(), 422, "empty_message"),
        (json.dumps({"sender": U1, "message": "hi\u0000there"}).encode(), 422, "invalid_message"),
        (json.dumps({"sender": U1, "message": "\u001b[31mred"}).encode(), 422, "invalid_message"),
        (json.dumps({"sender": U1, "message": "长" * 10001}).encode(), 413, "message_too_long"),
        (json.dumps({"sender": U1, "message": "hi", "metadata": "x"}).encode(), 422, "invalid_metadata"),
    ],
)
async def test_bad_input_gets_a_clear_json_4xx_and_nothing_is_stored(client, body, status, code):
    response = await client.post(WEBHOOK, data=body, headers={"Content-Type": "application/json"})
    assert response.status == status
    error = (await response.json())["error"]
    assert error["code"] == code and error["message"]
    assert stored_messages() == []


async def test_a_body_over_the_size_limit_is_refused_with_json(client):
    response = await client.post(
        WEBHOOK, data=b'{"sender": "' + U1.encode() + b'", "message": "' + b"a" * 400_000 + b'"}'
    )
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "payload_too_large"


async def test_when_rasa_is_down_the_customer_is_told_and_the_message_is_kept(client):
    response = await client.post(WEBHOOK, json={"sender": U1, "message": "怎么开发票"})
    assert response.status == 200
    assert response.headers["X-GridDesk-Degraded"] == "bot-unavailable"
    assert await response.json() == [{"recipient_id": U1, "text": messages.BOT_UNAVAILABLE}]
    with session_scope() as session:
        kept = transcript(session, U1)
        assert [(m.seq, m.author, m.text, m.status) for m in kept] == [
            (1, Author.CUSTOMER, "怎么开发票", MessageStatus.UNANSWERED),
            (2, Author.SYSTEM, messages.BOT_UNAVAILABLE, MessageStatus.SENT),
        ]


async def _set_owner(client, sender: str, owner: Owner) -> None:
    await client.post(WEBHOOK, json={"sender": sender, "message": "你好"})
    with session_scope() as session:
        session.execute(update(Conversation).where(Conversation.sender_id == sender).values(owner=owner))


async def test_while_queued_the_gateway_answers_with_the_queue_status_and_never_asks_the_bot(client):
    await _set_owner(client, U2, Owner.QUEUED)
    response = await client.post(WEBHOOK, json={"sender": U2, "message": "还在吗"})
    # Rasa is unreachable: had the gateway asked it, the reply would be BOT_UNAVAILABLE.
    [reply] = await response.json()
    assert "人工客服接入后会看到" in reply["text"] and reply["buttons"] == messages.QUEUE_BUTTONS
    assert "X-GridDesk-Degraded" not in response.headers
    with session_scope() as session:
        customer = [m for m in transcript(session, U2) if m.author == Author.CUSTOMER][-1]
        assert (customer.text, customer.status) == ("还在吗", MessageStatus.RECEIVED)


async def test_while_a_human_owns_the_conversation_nobody_here_answers(client):
    await _set_owner(client, U3, Owner.HUMAN)
    response = await client.post(WEBHOOK, json={"sender": U3, "message": "还在吗"})
    assert await response.json() == []
    assert "X-GridDesk-Degraded" not in response.headers
    with session_scope() as session:
        last = transcript(session, U3)[-1]
        assert (last.author, last.text, last.status) == (Author.CUSTOMER, "还在吗", MessageStatus.RECEIVED)


async def test_a_message_after_the_conversation_closed_reopens_it_to_the_bot(client):
    await _set_owner(client, U4, Owner.CLOSED)
    response = await client.post(WEBHOOK, json={"sender": U4, "message": "还有个问题"})
    assert response.headers["X-GridDesk-Degraded"] == "bot-unavailable"  # the bot was asked (and is down here)
    with session_scope() as session:
        assert session.scalar(select(Conversation.owner).where(Conversation.sender_id == U4)) == Owner.BOT


async def test_control_payloads_never_reach_the_bot(client):
    response = await client.post(WEBHOOK, json={"sender": U5, "message": messages.KEEP_WAITING})
    assert await response.json() == [{"recipient_id": U5, "text": messages.BOT_IS_SERVING}]
    assert "X-GridDesk-Degraded" not in response.headers


async def test_concurrent_messages_get_unique_gapless_sequence_numbers(client):
    busy = web_id("busy")
    await asyncio.gather(*[client.post(WEBHOOK, json={"sender": busy, "message": f"消息 {i}"}) for i in range(12)])
    with session_scope() as session:
        seqs = [m.seq for m in transcript(session, busy)]
        texts = {m.text for m in transcript(session, busy) if m.author == Author.CUSTOMER}
    assert seqs == list(range(1, 25))
    assert texts == {f"消息 {i}" for i in range(12)}


async def test_customers_conversations_are_kept_apart(client):
    alice, bob = web_id("alice"), web_id("bob")
    await client.post(WEBHOOK, json={"sender": alice, "message": "我是 Alice"})
    await client.post(WEBHOOK, json={"sender": bob, "message": "我是 Bob"})
    with session_scope() as session:
        alice = [m.text for m in transcript(session, alice) if m.author == Author.CUSTOMER]
    assert alice == ["我是 Alice"]


async def test_unknown_api_paths_answer_json_404(client):
    response = await client.get("/api/v1/nothing-here")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"


@pytest.mark.parametrize("sender", ["tg:12345", "wecom:zhangsan", "TG:1", "tg:b24d14d4ea884fef924ce93d3841e42a"])
async def test_the_web_endpoints_refuse_the_conversations_of_messaging_apps(client, sender):
    posted = await client.post(WEBHOOK, json={"sender": sender, "message": "你好"})
    assert posted.status == 422 and (await posted.json())["error"]["code"] == "invalid_sender"
    for path in ("/webhooks/rest/history", "/webhooks/rest/status"):
        response = await client.get(path, params={"sender": sender})
        assert response.status == 422, path
    rating = await client.post("/webhooks/rest/rating", json={"sender": sender, "handoff_id": 1, "score": 5})
    assert rating.status == 422
    assert stored_messages() == []


CUSTOMER_PATHS = ("/webhooks/rest/history", "/webhooks/rest/status", "/webhooks/rest/live")


@pytest.mark.parametrize("sender", ["1", "test", "u1", "customer-42", "a" * 24, "00000000-0000-0000-0000-000000000000"])
async def test_guessable_sender_ids_are_refused_with_a_chinese_reason_on_every_web_endpoint(client, sender):
    posted = await client.post(WEBHOOK, json={"sender": sender, "message": "你好"})
    assert posted.status == 422
    error = (await posted.json())["error"]
    assert (error["code"], error["field"]) == ("invalid_sender", "sender")
    assert "随机" in error["message"] and "UUID" in error["message"] and "。" in error["message"]
    for path in CUSTOMER_PATHS:
        response = await client.get(path, params={"sender": sender})
        assert response.status == 422, path
        assert (await response.json())["error"]["code"] == "invalid_sender", path
    rating = await client.post("/webhooks/rest/rating", json={"sender": sender, "handoff_id": 1, "score": 5})
    assert rating.status == 422 and (await rating.json())["error"]["code"] == "invalid_sender"
    assert stored_messages() == []
    with session_scope() as session:
        assert session.scalar(select(Conversation.id)) is None


@pytest.fixture
async def legacy_client(aiohttp_client, gateway_settings):
    settings = dataclasses.replace(gateway_settings, legacy_sender_ids=True)
    kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
    return await aiohttp_client(create_app(settings, knowledge_base=kb, warm_index=False))


async def test_with_legacy_sender_ids_the_old_rule_of_1_to_128_characters_applies(legacy_client):
    response = await legacy_client.post(WEBHOOK, json={"sender": "u1", "message": "你好"})
    assert response.status == 200
    assert await response.json() == [{"recipient_id": "u1", "text": messages.BOT_UNAVAILABLE}]
    history = await (await legacy_client.get("/webhooks/rest/history", params={"sender": "u1"})).json()
    assert [m["text"] for m in history["messages"]] == ["你好", messages.BOT_UNAVAILABLE]
    assert (await legacy_client.get("/webhooks/rest/status", params={"sender": "u1"})).status == 200
    for sender in ("tg:1", "x" * 129):  # still never a messaging app's conversation, still at most 128 characters
        refused = await legacy_client.post(WEBHOOK, json={"sender": sender, "message": "你好"})
        assert refused.status == 422 and (await refused.json())["error"]["code"] == "invalid_sender"


class EchoRasa:
    """Rasa's REST channel: records what it is sent, answers with one line."""

    def __init__(self) -> None:
        self.received: list[dict] = []

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        return web.json_response([{"recipient_id": body["sender"], "text": "好的"}])


async def test_the_bot_reads_the_normal_form_and_the_transcript_keeps_what_was_typed(
    aiohttp_client, aiohttp_server, gateway_settings
):
    rasa = EchoRasa()
    rasa_app = web.Application()
    rasa_app.router.add_post("/webhooks/rest/webhook", rasa.webhook)
    server = await aiohttp_server(rasa_app)
    settings = dataclasses.replace(gateway_settings, rasa_url=str(server.make_url("")).rstrip("/"))
    kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
    client = await aiohttp_client(create_app(settings, knowledge_base=kb, warm_index=False))
    typed = "網路又斷了啊啊啊啊！！！"
    response = await client.post(WEBHOOK, json={"sender": U9, "message": typed})
    assert [reply["text"] for reply in await response.json()] == ["好的"]
    [sent] = rasa.received
    assert sent["message"] == "网络又断了啊啊!"
    assert sent["metadata"]["typed"] == typed
    with session_scope() as session:
        assert [m.text for m in transcript(session, U9)] == [typed, "好的"]


class ButtonRasa(EchoRasa):
    """Answers every message with an answer and its 有帮助 / 没帮助 buttons."""

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        buttons = [
            {"title": "有帮助", "payload": HELPFUL},
            {"title": "没帮助", "payload": HELPFUL.replace("yes", "no")},
        ]
        return web.json_response([{"recipient_id": body["sender"], "text": "请在公众号申请发票。", "buttons": buttons}])


HELPFUL = '/faq_feedback{"faq_id": "3", "helpful": "yes"}'


async def test_a_button_press_is_kept_and_shown_as_its_title_and_the_bot_gets_the_payload(
    aiohttp_client, aiohttp_server, gateway_settings
):
    rasa = ButtonRasa()
    rasa_app = web.Application()
    rasa_app.router.add_post("/webhooks/rest/webhook", rasa.webhook)
    server = await aiohttp_server(rasa_app)
    settings = dataclasses.replace(gateway_settings, rasa_url=str(server.make_url("")).rstrip("/"))
    kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
    client = await aiohttp_client(create_app(settings, knowledge_base=kb, warm_index=False))
    for text in ("怎么开发票", HELPFUL, "/affirm"):
        assert (await client.post(WEBHOOK, json={"sender": U9, "message": text})).status == 200
    assert [body["message"] for body in rasa.received] == ["怎么开发票", HELPFUL, "/affirm"]
    history = await (await client.get("/webhooks/rest/history", params={"sender": U9})).json()
    said = [(m["text"], m["payload"]) for m in history["messages"] if m["author"] == "customer"]
    # a payload no button offered (typed by hand) stays as it was typed
    assert said == [("怎么开发票", None), ("有帮助", {"button": HELPFUL}), ("/affirm", None)]
