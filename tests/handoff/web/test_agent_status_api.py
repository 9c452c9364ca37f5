"""The agent's status and automatic assignment through the gateway (issue 14, item 7): online after
login, offline after logout, no accepting while offline, and waiting customers given to a free agent
when their console opens, when they go online and when a chat ends."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from conversations.models import Author
from conversations.transcript import transcript
from griddesk.db import session_scope
from grids.models import Agent, AgentStatus
from tests.accounts.conftest import fast_hashing  # noqa: F401 - fixture
from tests.handoff.web.test_console import Console, _next, app_client, queue_handoff, staff  # noqa: F401
from tests.ids import web_id

pytestmark = pytest.mark.usefixtures("fast_hashing")

C1 = web_id("c1")


def told(sender: str) -> list[str]:
    with session_scope() as session:
        return [m.text for m in transcript(session, sender) if m.author == Author.SYSTEM]


def all_offline() -> None:
    with session_scope() as session:
        session.execute(update(Agent).values(status=AgentStatus.OFFLINE))


async def test_an_agent_is_online_after_login_and_offline_after_logout(app_client, staff):  # noqa: F811
    all_offline()
    console = await Console.login(app_client, "zhang.wei")
    assert await (await app_client.get("/api/v1/console/status")).json() == {"status": "online", "present": False}
    assert (await console.post("/api/v1/auth/logout")).status == 204
    with session_scope() as session:
        assert session.get_one(Agent, 1).status == AgentStatus.OFFLINE


async def test_an_offline_agent_is_told_to_go_online_before_accepting(app_client, staff):  # noqa: F811
    handoff_id = queue_handoff()
    console = await Console.login(app_client, "zhang.wei")
    assert (await console.post("/api/v1/console/status", {"status": "offline"})).status == 200
    refused = await console.post(f"/api/v1/console/handoffs/{handoff_id}/accept")
    assert refused.status == 409
    error = (await refused.json())["error"]
    assert error["code"] == "agent_offline" and error["message"] == "您当前为离线状态，请先把状态切换为在线再接入会话。"
    bad = await console.post("/api/v1/console/status", {"status": "busy"})
    assert (await bad.json())["error"]["message"] == "请选择状态：在线、忙碌、离线。"


async def test_opening_the_console_gives_a_waiting_customer_to_the_agent(app_client, staff):  # noqa: F811
    all_offline()
    handoff_id = queue_handoff(C1)
    await Console.login(app_client, "zhang.wei")
    origin = {"Origin": str(app_client.make_url("/")).rstrip("/")}
    async with app_client.ws_connect("/api/v1/console/ws?serve=1", headers=origin) as ws:
        hello = await _next(ws, "hello")
        assert hello["agent_status"] == "online"
        chats = await _next(ws, "chats")
        while not chats["items"]:  # the snapshot sent on connect comes first
            chats = await _next(ws, "chats")
        assert chats["items"][0]["handoff_id"] == handoff_id
    assert told(C1)[-1] == "人工客服 张伟 为您服务。"
    status = await (await app_client.get("/webhooks/rest/status", params={"sender": C1})).json()
    assert status["owner"] == "human" and status["agent_name"] == "张伟"


async def test_the_board_or_the_tickets_workspace_open_gives_nobody_a_customer(app_client, staff):  # noqa: F811
    queue_handoff(C1)
    await Console.login(app_client, "zhang.wei")
    origin = {"Origin": str(app_client.make_url("/")).rstrip("/")}
    async with app_client.ws_connect("/api/v1/console/ws", headers=origin) as ws:
        queue = await _next(ws, "queue")
        assert len(queue["items"]) == 1
    assert await (await app_client.get("/api/v1/console/status")).json() == {"status": "online", "present": False}


async def test_going_online_and_ending_a_chat_each_give_the_next_waiting_customer(app_client, staff):  # noqa: F811
    with session_scope() as session:
        session.execute(update(Agent).values(status=AgentStatus.AWAY, max_chats=1))
    first, second = queue_handoff(C1), queue_handoff("c2", customer=None)
    console = await Console.login(app_client, "zhang.wei")
    assert (await console.post("/api/v1/console/status", {"status": "away"})).status == 200
    origin = {"Origin": str(app_client.make_url("/")).rstrip("/")}
    async with app_client.ws_connect("/api/v1/console/ws?serve=1", headers=origin):
        assert "人工客服 张伟 为您服务。" not in told(C1)  # away: nobody is given to them
        assert (await console.post("/api/v1/console/status", {"status": "online"})).status == 200
        chats = await (await app_client.get("/api/v1/console/chats")).json()
        assert [c["handoff_id"] for c in chats["items"]] == [first]
        assert (await console.post(f"/api/v1/console/handoffs/{first}/close")).status == 200
        chats = await (await app_client.get("/api/v1/console/chats")).json()
        assert [c["handoff_id"] for c in chats["items"]] == [second]
    assert told("c2")[-1] == "人工客服 张伟 为您服务。"
