"""One read scope for conversations (``handoff.web.access.can_read_conversation``): staff read a
conversation while its current handoff is in one of their grids or is theirs; an earlier handoff
opens nothing once the conversation moved on to another grid, on every path (the handoff view, the
messages, the websocket)."""

from __future__ import annotations

import asyncio
import json

import pytest

from griddesk.db import session_scope
from tests.accounts.conftest import fast_hashing  # noqa: F401 - fixture
from tests.factories import make_handoff
from tests.handoff.web.test_console import Console, _next, app_client, queue_handoff, staff  # noqa: F401 - fixtures
from tests.ids import web_id

pytestmark = pytest.mark.usefixtures("fast_hashing")
MOVED, AWAY = web_id("c-moved"), web_id("c-away")


async def subscribe(ws, conversation_id: int) -> dict:
    await ws.send_json({"type": "subscribe", "conversation_id": conversation_id, "after": 0})
    while True:
        event = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
        if event["type"] in ("message", "error"):
            return event


async def test_an_old_handoff_of_my_grid_opens_nothing_once_the_conversation_moved_to_another_grid(app_client, staff):  # noqa: F811
    old = queue_handoff(MOVED)
    agent = await Console.login(app_client, "zhang.wei")
    chat = await (await agent.post(f"/api/v1/console/handoffs/{old}/accept")).json()
    conversation_id = chat["conversation_id"]
    await agent.post(f"/api/v1/console/handoffs/{old}/messages", {"text": "您好"})
    assert (await agent.post(f"/api/v1/console/handoffs/{old}/hand-back")).status == 200
    assert (await app_client.get(f"/api/v1/console/handoffs/{old}")).status == 200  # still its grid's
    # the customer asks for a person again and is routed to 上海浦东网格
    with session_scope() as session:
        new = make_handoff(session, MOVED, "sh-pudong").id
    moved_on = {"sender": MOVED, "message": "我搬到上海了，地址是浦东某路"}
    await app_client.post("/webhooks/rest/webhook", json=moved_on)

    origin = {"Origin": str(app_client.make_url("/")).rstrip("/")}
    for username in ("zhang.wei", "li.na"):  # the agent who handled it, and a colleague of that grid
        await Console.login(app_client, username)
        assert (await app_client.get(f"/api/v1/console/handoffs/{old}")).status == 403, username
        assert (await app_client.get(f"/api/v1/console/conversations/{conversation_id}/messages")).status == 403
        assert (await app_client.get(f"/api/v1/console/handoffs/{old}/ticket-draft")).status == 403
        async with app_client.ws_connect("/api/v1/console/ws", headers=origin) as ws:
            assert (await subscribe(ws, conversation_id))["code"] == "forbidden"

    await Console.login(app_client, "zhou.ting")  # the grid it is in now
    messages = await (await app_client.get(f"/api/v1/console/conversations/{conversation_id}/messages")).json()
    assert "我搬到上海了，地址是浦东某路" in [m["text"] for m in messages["messages"]]
    assert (await app_client.get(f"/api/v1/console/handoffs/{new}")).status == 200


async def test_a_subscribed_console_stops_getting_a_conversation_transferred_to_another_grid(app_client, staff):  # noqa: F811
    handoff_id = queue_handoff(AWAY)
    agent = await Console.login(app_client, "zhang.wei")
    origin = {"Origin": str(app_client.make_url("/")).rstrip("/")}
    async with app_client.ws_connect("/api/v1/console/ws", headers=origin) as ws:
        chat = await (await agent.post(f"/api/v1/console/handoffs/{handoff_id}/accept")).json()
        conversation_id = chat["conversation_id"]
        assert (await subscribe(ws, conversation_id))["type"] == "message"
        moved = await agent.post(
            f"/api/v1/console/handoffs/{handoff_id}/transfer", {"grid": "sh-pudong", "note": "客户在上海"}
        )
        assert moved.status == 200
        gone = await _next(ws, "unsubscribed")
        assert gone["conversation_id"] == conversation_id
        await app_client.post("/webhooks/rest/webhook", json={"sender": AWAY, "message": "转走以后的消息"})
        await ws.send_json({"type": "ping"})
        frames = []
        while not frames or frames[-1]["type"] != "pong":
            frames.append(json.loads((await asyncio.wait_for(ws.receive(), 5)).data))
        assert all(f.get("message", {}).get("text") != "转走以后的消息" for f in frames)
    assert (await app_client.get(f"/api/v1/console/conversations/{conversation_id}/messages")).status == 403
    assert (await app_client.get(f"/api/v1/console/handoffs/{handoff_id}")).status == 403
