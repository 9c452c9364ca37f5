"""The conversation key: our chat page binds its conversation to a secret the gateway issues, which every
later call must present; other Rasa REST clients keep working without one."""

from __future__ import annotations

import aiohttp
import pytest
from sqlalchemy import func, select

from conversations.models import Conversation, Message
from griddesk.db import session_scope
from handoff import messages
from tests.ids import web_id

WEBHOOK = "/webhooks/rest/webhook"
HISTORY = "/webhooks/rest/history"
STATUS = "/webhooks/rest/status"
LIVE = "/webhooks/rest/live"
RATING = "/webhooks/rest/rating"
KEY = "X-GridDesk-Key"
PAGE, OTHER = web_id("page"), web_id("other")


def message_count() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Message)) or 0


async def bind(client, sender: str = PAGE) -> str:
    """Our page's first message: asks for a key, gets it in the response header."""
    response = await client.post(WEBHOOK, json={"sender": sender, "message": "你好"}, headers={KEY: "new"})
    assert response.status == 200, await response.text()
    assert await response.json() == [{"recipient_id": sender, "text": messages.BOT_UNAVAILABLE}]
    return response.headers[KEY]


async def refused(response, code: str) -> None:
    assert response.status == 403
    error = (await response.json())["error"]
    assert error["code"] == code and "会话" in error["message"] and "。" in error["message"]


async def live_status(client, sender: str, key: str | None) -> int:
    protocols = ("griddesk.live", f"griddesk.key.{key}") if key else ()
    try:
        async with client.ws_connect(LIVE, params={"sender": sender}, protocols=protocols) as ws:
            assert (await ws.receive_json(timeout=5))["type"] == "message"
            if key:
                assert ws.protocol == "griddesk.live"
            return 101
    except aiohttp.WSServerHandshakeError as error:
        return error.status


async def test_our_pages_first_message_gets_a_key_that_every_later_call_must_present(client):
    key = await bind(client)
    assert len(key) >= 43 and key != "new"
    with session_scope() as session:
        stored = session.scalar(select(Conversation.client_key_hash).where(Conversation.sender_id == PAGE))
    assert stored is not None and key not in stored  # only a hash is kept

    history = await client.get(HISTORY, params={"sender": PAGE}, headers={KEY: key})
    assert [m["text"] for m in (await history.json())["messages"]] == ["你好", messages.BOT_UNAVAILABLE]
    assert (await client.get(STATUS, params={"sender": PAGE}, headers={KEY: key})).status == 200
    again = await client.post(WEBHOOK, json={"sender": PAGE, "message": "在吗"}, headers={KEY: key})
    assert again.status == 200 and KEY not in again.headers
    assert await live_status(client, PAGE, key) == 101


async def test_without_the_key_nobody_reads_writes_or_listens_to_a_bound_conversation(client):
    key = await bind(client)
    before = message_count()
    for headers, code in (({}, "conversation_key_required"), ({KEY: key[:-1] + "x"}, "conversation_key_invalid")):
        await refused(await client.get(HISTORY, params={"sender": PAGE}, headers=headers), code)
        await refused(await client.get(STATUS, params={"sender": PAGE}, headers=headers), code)
        posted = await client.post(WEBHOOK, json={"sender": PAGE, "message": "我是别人"}, headers=headers)
        await refused(posted, code)
        rating = await client.post(
            RATING, json={"sender": PAGE, "handoff_id": 1, "score": 1, "token": "t"}, headers=headers
        )
        await refused(rating, code)
        assert await live_status(client, PAGE, headers.get(KEY)) == 403
    # asking for a new key does not take the conversation over either
    await refused(
        await client.post(WEBHOOK, json={"sender": PAGE, "message": "给我钥匙"}, headers={KEY: "new"}),
        "conversation_key_required",
    )
    assert message_count() == before


async def test_one_conversations_key_opens_no_other(client):
    key = await bind(client, PAGE)
    other_key = await bind(client, OTHER)
    assert key != other_key
    await refused(await client.get(HISTORY, params={"sender": OTHER}, headers={KEY: key}), "conversation_key_invalid")


async def test_other_rest_clients_keep_working_without_a_key(client):
    response = await client.post(WEBHOOK, json={"sender": OTHER, "message": "你好"})
    assert response.status == 200 and KEY not in response.headers
    history = await client.get(HISTORY, params={"sender": OTHER})
    assert len((await history.json())["messages"]) == 2
    assert (await client.get(STATUS, params={"sender": OTHER})).status == 200
    assert await live_status(client, OTHER, None) == 101
    # a key for a conversation that has none (or does not exist) is refused, never silently ignored
    await refused(
        await client.get(HISTORY, params={"sender": OTHER}, headers={KEY: "k" * 43}), "conversation_key_invalid"
    )
    await refused(
        await client.get(HISTORY, params={"sender": web_id("nobody")}, headers={KEY: "k" * 43}),
        "conversation_key_invalid",
    )


async def test_a_conversation_begun_without_a_key_is_bound_when_our_page_asks(client):
    await client.post(WEBHOOK, json={"sender": PAGE, "message": "升级前的消息"})  # before the upgrade
    key = await bind(client)
    history = await client.get(HISTORY, params={"sender": PAGE}, headers={KEY: key})
    assert (await history.json())["messages"][0]["text"] == "升级前的消息"
    await refused(await client.get(HISTORY, params={"sender": PAGE}), "conversation_key_required")


@pytest.mark.parametrize("value", ["", " ", "x" * 200])
async def test_an_unusable_key_header_is_refused(client, value):
    await bind(client)
    response = await client.get(HISTORY, params={"sender": PAGE}, headers={KEY: value})
    assert response.status == 403
