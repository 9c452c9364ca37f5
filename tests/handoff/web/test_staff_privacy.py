"""Staff never see a customer's sender id (the customer's credential) nor the one-time rating token of
the close notice: a whole chat driven through the console API and websocket, the manager view, the
ticket from the chat and the knowledge-base inbox, and not one response body or websocket frame carries
them (nor the tail of the sender id the console used to show)."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
from aiohttp import WSMsgType
from sqlalchemy import select

from accounts.models import Role
from conversations.models import Author, Conversation, MessageStatus
from conversations.transcript import append_messages
from griddesk.db import session_scope
from knowledge_base.models import Miss
from tests.accounts.conftest import fast_hashing, make_staff  # noqa: F401 - fixture
from tests.factories import make_handoff
from tests.handoff.web.test_console import Console, app_client, rating_tokens_in, staff  # noqa: F401 - fixtures

pytestmark = pytest.mark.usefixtures("fast_hashing")

SENDER = "web-QZXWVK7-visitor-JHGFDS"


class Frames:
    """Every text frame a console websocket receives, read in the background."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.texts: list[str] = []
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type is WSMsgType.TEXT:
                self.texts.append(message.data)

    async def wait_for(self, check, seconds: float = 5.0) -> dict:
        for _ in range(int(seconds / 0.02)):
            for text in self.texts:
                event = json.loads(text)
                if check(event):
                    return event
            await asyncio.sleep(0.02)
        raise AssertionError(f"no such frame in {self.texts}")

    async def stop(self) -> None:
        await self.ws.close()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


class Recorder:
    """Every body staff got back."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    async def __call__(self, response, status: int = 200) -> dict:
        text = await response.text()
        assert response.status == status, text
        self.bodies.append(text)
        return json.loads(text) if text else {}


def customer_chat_before_the_handoff() -> tuple[int, int]:
    """The customer talked to the bot (its replies carry Rasa's ``recipient_id``), missed once, and asked
    for a person: queued in 成都武侯网格."""
    with session_scope() as session:
        conversation = session.scalar(select(Conversation).where(Conversation.sender_id == SENDER))
        assert conversation is not None
        conversation.profile = {"region": "成都市武侯区"}
        append_messages(
            session,
            conversation.id,
            [
                (Author.CUSTOMER, "宽带断网两天了", None, MessageStatus.ANSWERED),
                (
                    Author.BOT,
                    "抱歉，我没有找到答案。",
                    {
                        "recipient_id": SENDER,
                        "text": "抱歉，我没有找到答案。",
                        "buttons": [{"title": "转人工", "payload": "/request_human"}],
                    },
                    MessageStatus.SENT,
                ),
                (Author.CUSTOMER, "转人工", None, MessageStatus.ANSWERED),
            ],
        )
        session.add(
            Miss(
                text="宽带断网两天了",
                normalized="宽带断网两天了",
                decision="fallback",
                sender_id=SENDER,
                grid="cd-wuhou",
            )
        )
        handoff = make_handoff(
            session,
            SENDER,
            "cd-wuhou",
            intent={"name": "request_human", "confidence": 0.98},
            summary="宽带断网两天了",
            slots={"ticket_category": "fault"},
        )
        return handoff.id, conversation.id


async def test_no_staff_response_or_frame_carries_the_customers_sender_id(app_client, staff):  # noqa: F811
    with session_scope() as session:
        make_staff(session, "admin.chen", Role.ADMIN, (), display_name="陈管理")
    origin = {"Origin": str(app_client.make_url("/")).rstrip("/")}
    ok = Recorder()

    # the customer's side: a message the bot could not answer (the gateway's notice carries recipient_id)
    first = await app_client.post("/webhooks/rest/webhook", json={"sender": SENDER, "message": "你好"})
    assert first.status == 200
    handoff_id, conversation_id = customer_chat_before_the_handoff()

    # the grid manager watches the queue
    manager = await Console.login(app_client, "wang.min")
    board = await ok(await app_client.get("/api/v1/console/manager"))
    assert board["grids"][0]["queue"][0]["conversation_id"] == conversation_id
    manager_ws = Frames(await app_client.ws_connect("/api/v1/console/ws", headers=origin))

    # an agent takes the chat, reads everything about it and answers
    agent = await Console.login(app_client, "zhang.wei")
    agent_ws = Frames(await app_client.ws_connect("/api/v1/console/ws", headers=origin))
    await ok(await app_client.get("/api/v1/auth/me"))
    await ok(await app_client.get("/api/v1/console/labels"))
    queue = await ok(await app_client.get("/api/v1/console/queue"))
    assert [item["handoff_id"] for item in queue["items"]] == [handoff_id]
    chat = await ok(await agent.post(f"/api/v1/console/handoffs/{handoff_id}/accept"))
    assert chat["customer"] == f"访客 #{conversation_id}"
    chats = await ok(await app_client.get("/api/v1/console/chats"))
    assert chats["items"][0]["customer"] == f"访客 #{conversation_id}"
    detail = await ok(await app_client.get(f"/api/v1/console/handoffs/{handoff_id}"))
    assert any(m["author"] == "bot" for m in detail["messages"]) and detail["events"]
    await ok(await app_client.get(f"/api/v1/console/conversations/{conversation_id}/messages"))
    await agent_ws.ws.send_json({"type": "subscribe", "conversation_id": conversation_id, "after": 0})
    await agent_ws.wait_for(lambda e: e["type"] == "message" and e["message"]["author"] == "bot")
    answer = {"text": "您好，断网请先重启光猫再试。"}
    await ok(await agent.post(f"/api/v1/console/handoffs/{handoff_id}/messages", answer), 201)
    await app_client.post("/webhooks/rest/webhook", json={"sender": SENDER, "message": "好的谢谢"})
    await agent_ws.wait_for(lambda e: e["type"] == "message" and e["message"]["text"] == "好的谢谢")
    await ok(await app_client.get("/api/v1/console/kb/search", params={"q": "宽带断网"}))
    await ok(await app_client.get("/api/v1/console/canned-replies"))
    await ok(await app_client.get("/api/v1/console/transfer-targets"))

    # a ticket from the chat
    draft = await ok(await app_client.get(f"/api/v1/console/handoffs/{handoff_id}/ticket-draft"))
    created = await ok(
        await agent.post(
            f"/api/v1/console/handoffs/{handoff_id}/ticket",
            # the agent completes what an anonymous customer's claims no longer prefill (issue 12: identity)
            {**draft, "contact_phone": "13800138000", "contact_name": "王先生", "region": "成都市武侯区"},
        ),
        201,
    )
    ticket = await ok(
        await app_client.get(f"/api/v1/tickets/{created['number']}", headers={"Authorization": "Bearer test-token"})
    )
    assert ticket["number"] == created["number"]
    await ok(await app_client.get(f"/api/v1/console/handoffs/{handoff_id}"))

    # the chat ends; the agent's answer goes to the knowledge-base inbox
    await ok(await agent.post(f"/api/v1/console/handoffs/{handoff_id}/close"))
    await agent_ws.wait_for(
        lambda e: e["type"] == "message" and e["message"]["author"] == "system" and "打分" in e["message"]["text"]
    )
    history = await (await app_client.get("/webhooks/rest/history", params={"sender": SENDER})).json()
    [token] = rating_tokens_in(history["messages"])  # the customer's close notice carries the rating token
    await manager.post("/api/v1/auth/logout")  # harmless: that session is not the client's any more
    await Console.login(app_client, "admin.chen")
    inbox = await ok(await app_client.get("/api/v1/kb/inbox"))
    assert {i["kind"] for c in inbox["clusters"] for i in c["items"]} >= {"miss", "agent_answer"}
    await ok(await app_client.get("/api/v1/console/manager"))
    await ok(await app_client.get(f"/api/v1/console/handoffs/{handoff_id}"))
    await agent_ws.stop()
    await manager_ws.stop()

    seen = ok.bodies + agent_ws.texts + manager_ws.texts
    assert len(agent_ws.texts) > 5 and len(manager_ws.texts) > 1
    leaks = [text for text in seen if SENDER in text or SENDER[-6:] in text or token in text]
    assert leaks == []
