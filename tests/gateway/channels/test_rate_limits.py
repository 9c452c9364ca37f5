"""Customer limits on the web channels (issue 12, finding 9): 20 anonymous 转人工 in 1.6 s pushed a real
customer to 21st place, and one client sent 294 messages a minute. Limits per address and per conversation
answer 429 with Retry-After and nothing is recorded; another address is not affected.

The test client always connects from 127.0.0.1; the gateway trusts it as a proxy here, so each request
names its client in X-Forwarded-For (that the header is ignored from other peers is tested in
tests/griddesk/test_web_ratelimit.py and below)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import func, select

from conversations.models import Conversation
from gateway.app import create_app
from griddesk.db import session_scope
from griddesk.settings import RateLimits
from handoff import messages
from handoff.models import Handoff
from knowledge_base.search import KnowledgeBase
from tests.encoders import HashingEncoder
from tests.ids import web_id

WEBHOOK = "/webhooks/rest/webhook"
SHOPPER, OFFICE = "203.0.113.5", "198.51.100.7"
RATE_LIMITED = {"error": {"code": "rate_limited", "message": "请求过于频繁，请稍后再试。"}}
PACKET = {"reason": "customer_request", "grid": "cd-wuhou"}


class FakeRasa:
    """Rasa with the action server behind it: ``/request_human`` and 我要投诉 escalate, the rest is answered."""

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        sender, text = body["sender"], body["message"]
        replies: list[dict[str, Any]] = [{"recipient_id": sender, "text": "好的"}]
        if text == "/request_human":
            replies.append({"recipient_id": sender, "custom": {"griddesk": {"handoff": PACKET}}})
        elif text == "我要投诉":
            packet = {**PACKET, "reason": "complaint"}
            replies.append({"recipient_id": sender, "custom": {"griddesk": {"handoff": packet}}})
        return web.json_response(replies)


@pytest.fixture
async def rasa_url(aiohttp_server) -> str:
    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", FakeRasa().webhook)
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/")


@pytest.fixture
def gateway_for(aiohttp_client, settings, rasa_url):
    async def start(trusted: tuple[str, ...] = ("127.0.0.1",), **limits: int):
        configured = dataclasses.replace(
            settings,
            rasa_url=rasa_url,
            rasa_timeout=2.0,
            trusted_proxies=trusted,
            rate=dataclasses.replace(RateLimits(), **limits),
        )
        kb = KnowledgeBase(configured, HashingEncoder(), refresh_seconds=0)
        app = create_app(configured, knowledge_base=kb, warm_index=False, watch_overdue=False, sweep_queues=False)
        return await aiohttp_client(app)

    return start


def via(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def conversations() -> set[str]:
    with session_scope() as session:
        return set(session.scalars(select(Conversation.sender_id)))


def queued() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Handoff)) or 0


async def refused(response) -> int:
    """The Retry-After of a 429 rate_limited answer (asserting the answer)."""
    assert response.status == 429, await response.text()
    assert await response.json() == RATE_LIMITED
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= 1200
    return retry_after


async def test_the_21st_handoff_from_one_address_is_refused_and_another_address_still_gets_through(gateway_for):
    client = await gateway_for()  # the default: 20 handoffs per address per 10 minutes
    for n in range(20):
        response = await client.post(
            WEBHOOK, json={"sender": web_id(f"bot-{n}"), "message": "转人工"}, headers=via(SHOPPER)
        )
        assert response.status == 200, await response.text()
    assert queued() == 20

    response = await client.post(WEBHOOK, json={"sender": web_id("bot-20"), "message": "转人工"}, headers=via(SHOPPER))
    await refused(response)
    assert web_id("bot-20") not in conversations() and queued() == 20  # nothing recorded, nobody queued

    response = await client.post(WEBHOOK, json={"sender": web_id("real"), "message": "转人工"}, headers=via(OFFICE))
    assert response.status == 200
    assert any("您前面还有 20 位客户" in reply.get("text", "") for reply in await response.json())
    assert queued() == 21
    # ordinary questions from the busy address still get answers: only handoffs are used up
    response = await client.post(
        WEBHOOK, json={"sender": web_id("bot-0"), "message": "怎么开发票"}, headers=via(SHOPPER)
    )
    assert response.status == 200


async def test_the_bots_own_escalations_count_against_the_handoff_limit(gateway_for):
    client = await gateway_for(handoffs_per_address=1)
    assert (
        await client.post(WEBHOOK, json={"sender": web_id("a"), "message": "转人工"}, headers=via(SHOPPER))
    ).status == 200
    response = await client.post(WEBHOOK, json={"sender": web_id("b"), "message": "我要投诉"}, headers=via(SHOPPER))
    assert response.status == 200  # the message itself was within limits and is answered
    texts = [reply.get("text") for reply in await response.json()]
    assert texts == ["好的", messages.HANDOFFS_TOO_OFTEN]
    assert queued() == 1
    status = await (
        await client.get("/webhooks/rest/status", params={"sender": web_id("b")}, headers=via(SHOPPER))
    ).json()
    assert status["owner"] == "bot"


async def test_one_conversation_may_send_only_so_many_messages_a_minute(gateway_for):
    client = await gateway_for(messages_per_conversation=3)
    for n in range(3):
        response = await client.post(
            WEBHOOK, json={"sender": web_id("chatty"), "message": f"问题{n}"}, headers=via(SHOPPER)
        )
        assert response.status == 200
    response = await client.post(WEBHOOK, json={"sender": web_id("chatty"), "message": "问题3"}, headers=via(SHOPPER))
    assert await refused(response) <= 120  # a sliding minute: at most two windows away
    # the same address with another conversation, and a rating of that conversation, are separate counts
    response = await client.post(WEBHOOK, json={"sender": web_id("quiet"), "message": "你好"}, headers=via(SHOPPER))
    assert response.status == 200
    history = await client.get("/webhooks/rest/history", params={"sender": web_id("chatty")}, headers=via(SHOPPER))
    said = [m["text"] for m in (await history.json())["messages"] if m["author"] == "customer"]
    assert said == ["问题0", "问题1", "问题2"]  # the refused one was not recorded


async def test_one_address_may_send_only_so_many_messages_a_minute_whatever_the_sender(gateway_for):
    client = await gateway_for(messages_per_address=4)
    for n in range(4):
        response = await client.post(WEBHOOK, json={"sender": web_id(f"s{n}"), "message": "你好"}, headers=via(SHOPPER))
        assert response.status == 200
    await refused(await client.post(WEBHOOK, json={"sender": web_id("s4"), "message": "你好"}, headers=via(SHOPPER)))
    rating = {"sender": web_id("s0"), "handoff_id": 1, "score": 5}
    await refused(await client.post("/webhooks/rest/rating", json=rating, headers=via(SHOPPER)))
    response = await client.post(WEBHOOK, json={"sender": web_id("s5"), "message": "你好"}, headers=via(OFFICE))
    assert response.status == 200


async def test_reading_a_conversation_too_often_is_refused_history_status_and_live_alike(gateway_for):
    client = await gateway_for(reads_per_conversation=3)
    params = {"sender": web_id("poller")}
    assert (await client.get("/webhooks/rest/history", params=params, headers=via(SHOPPER))).status == 200
    assert (await client.get("/webhooks/rest/status", params=params, headers=via(SHOPPER))).status == 200
    ws = await client.ws_connect(f"/webhooks/rest/live?sender={web_id('poller')}", headers=via(SHOPPER))
    await ws.close()
    for path in ("/webhooks/rest/history", "/webhooks/rest/status", "/webhooks/rest/live"):
        await refused(await client.get(path, params=params, headers=via(SHOPPER)))
    assert (await client.get("/webhooks/rest/status", params={"sender": web_id("other")})).status == 200


async def test_x_forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored(gateway_for):
    client = await gateway_for(trusted=(), handoffs_per_address=2)
    for n in range(2):
        response = await client.post(
            WEBHOOK, json={"sender": web_id(f"h{n}"), "message": "转人工"}, headers=via(f"10.0.0.{n}")
        )
        assert response.status == 200
    # a fresh X-Forwarded-For does not buy a fresh budget: the peer (127.0.0.1) is what counts
    await refused(
        await client.post(WEBHOOK, json={"sender": web_id("h2"), "message": "转人工"}, headers=via("10.0.0.9"))
    )


async def test_a_refused_first_message_of_our_page_binds_no_key_and_records_no_conversation(gateway_for):
    client = await gateway_for(messages_per_address=1)
    assert (await client.post(WEBHOOK, json={"sender": web_id("s0"), "message": "你好"})).status == 200
    page = web_id("page")
    response = await client.post(WEBHOOK, json={"sender": page, "message": "你好"}, headers={"X-GridDesk-Key": "new"})
    await refused(response)
    assert "X-GridDesk-Key" not in response.headers and page not in conversations()
