"""Human handoff against the real stack: who answers in every state, ten agents racing for one
customer, the console websocket across a reconnect, and every console route refusing strangers."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.management import create_account
from accounts.models import Role
from conversations.models import Owner
from conversations.rating_tokens import rating_token_of
from griddesk.db import make_engine
from grids.models import Agent, AgentStatus, GridMembership
from handoff.models import OwnershipEvent
from tests.integration.client import Customer, Staff, request, verified

pytestmark = pytest.mark.integration

PASSWORD = "integration-pass-1"


def wuhou() -> dict[str, str]:
    """A customer of 成都市武侯区 as the embedding site vouches for them (a page's own claim routes nowhere)."""
    return verified(region="成都市武侯区")


@dataclass(frozen=True)
class Team:
    agents: list[str]
    manager: str
    outsider: str  # an agent of another grid


@pytest.fixture(scope="module")
def team(stack) -> Iterator[Team]:
    """Ten online agents and a manager in the 成都武侯 grid, one agent in 上海浦东."""
    engine = make_engine(stack.settings.database_url)
    agents = [f"it.wuhou{i}" for i in range(10)]
    with Session(engine) as session, session.begin():

        def staff(username: str, role: Role, grid: str) -> None:
            account = create_account(session, username, f"测试{username[-2:]}", role, PASSWORD)
            session.add(Agent(account_id=account.id, skills=["general"], max_chats=3, status=AgentStatus.ONLINE))
            session.add(GridMembership(grid_code=grid, account_id=account.id))

        for username in agents:
            staff(username, Role.AGENT, "cd-wuhou")
        staff("it.manager", Role.MANAGER, "cd-wuhou")
        staff("it.pudong", Role.AGENT, "sh-pudong")
    yield Team(agents, "it.manager", "it.pudong")
    engine.dispose()


def login(stack, username: str) -> Staff:
    return Staff(stack.settings.gateway_url, username, PASSWORD)


def waiting_item(agent: Staff, customer: Customer) -> dict:
    reply = agent.get("/api/v1/console/queue")
    assert reply.status == 200, reply.body
    status = customer.status()
    return next(item for item in reply.body["items"] if item["handoff_id"] == status["handoff_id"])


def escalate(customer: Customer) -> list[dict]:
    replies = customer.say("转人工")
    assert customer.status()["owner"] == "queued", replies
    return replies


def test_who_answers_in_every_state_of_a_conversation(stack, team):
    customer = Customer(stack.settings.gateway_url, wuhou())
    agent = login(stack, team.agents[0])
    question = "你们的服务时间是几点到几点"

    # bot: Rasa answers from the knowledge base
    assert any("8:00" in t for t in customer.texts(question))

    # 转人工: the bot says who helps and how long it takes, then the gateway queues the customer
    replies = escalate(customer)
    said = " ".join(r.get("text", "") for r in replies)
    assert "成都武侯网格" in said and "排在第一位" in said
    assert [b["payload"] for b in replies[-1]["buttons"]] == [
        "/griddesk_keep_waiting",
        "/griddesk_leave_message",
        "/griddesk_back_to_bot",
    ]
    status = customer.status()
    assert status["grid"]["code"] == "cd-wuhou" and status["position"] == 1 and status["eta_seconds"] is not None

    # queued: the bot is silent; the gateway repeats the queue status
    replies = customer.say(question)
    assert len(replies) == 1 and "8:00" not in replies[0]["text"] and "人工客服接入后" in replies[0]["text"]

    # the agent sees the packet and accepts
    item = waiting_item(agent, customer)
    assert item["reason"] == "customer_request" and item["grid"]["code"] == "cd-wuhou"
    detail = agent.get(f"/api/v1/console/handoffs/{item['handoff_id']}").body
    assert detail["packet"]["reason"] == "customer_request"
    assert detail["packet"]["intent"]["name"] == "request_human"
    assert question in [m["text"] for m in detail["messages"]]
    assert agent.post(f"/api/v1/console/handoffs/{item['handoff_id']}/accept").status == 200
    assert customer.status()["owner"] == "human"
    assert customer.status()["agent_name"] == agent.account["display_name"]

    # human: nobody but the agent answers; the agent reads the message and replies
    assert customer.say(question) == []
    messages = agent.get(f"/api/v1/console/conversations/{item['conversation_id']}/messages").body["messages"]
    assert messages[-1]["author"] == "customer" and messages[-1]["text"] == question
    assert (
        agent.post(
            f"/api/v1/console/handoffs/{item['handoff_id']}/messages", {"text": "您好,人工服务时间是8点到22点"}
        ).status
        == 201
    )
    last = customer.history()[-1]
    assert last["author"] == "agent" and last["payload"]["agent_name"] == agent.account["display_name"]

    # hand back: the bot answers again
    assert agent.post(f"/api/v1/console/handoffs/{item['handoff_id']}/hand-back").status == 200
    assert customer.status()["owner"] == "bot"
    assert any("400-800-1234" in t for t in customer.texts("客服电话是多少"))

    # again a human, then closed: the customer is asked to rate, once
    escalate(customer)
    item = waiting_item(agent, customer)
    assert agent.post(f"/api/v1/console/handoffs/{item['handoff_id']}/accept").status == 200
    assert agent.post(f"/api/v1/console/handoffs/{item['handoff_id']}/close").status == 200
    status = customer.status()
    assert status["owner"] == "closed" and status["rating_pending"] is True
    [notice] = [m for m in customer.history() if (m["payload"] or {}).get("buttons")][-1:]
    token = rating_token_of(notice["payload"]["buttons"][-1]["payload"])  # the close notice's 5 分
    rating = {"sender": customer.sender, "handoff_id": item["handoff_id"], "score": 5, "comment": "很快"}
    url = f"{stack.settings.gateway_url}/webhooks/rest/rating"
    assert request("POST", url, rating).status == 403  # without the close notice's token
    rating["token"] = token
    assert request("POST", url, rating).status == 204
    assert request("POST", url, rating).status == 409
    assert customer.status()["rating_pending"] is False

    # closed: a new question reopens the conversation to the bot
    assert any("400-800-1234" in t for t in customer.texts("客服电话是多少"))
    assert customer.status()["owner"] == "bot"


def test_a_customer_in_the_queue_can_go_back_to_the_bot_or_leave_a_message(stack, team):
    customer = Customer(stack.settings.gateway_url, wuhou())
    escalate(customer)
    replies = customer.say("/griddesk_back_to_bot")
    assert customer.status()["owner"] == "bot" and "智能助手" in replies[-1]["text"]

    escalate(customer)
    replies = customer.say("/griddesk_leave_message")
    assert customer.status()["owner"] == "bot"
    assert replies and "8:00" not in replies[0].get("text", "")  # the ticket form's first question, not an FAQ


def test_ten_agents_accepting_one_customer_at_once_exactly_one_gets_it(stack, team):
    customer = Customer(stack.settings.gateway_url, wuhou())
    escalate(customer)
    agents = [login(stack, username) for username in team.agents]
    handoff_id = customer.status()["handoff_id"]

    with ThreadPoolExecutor(len(agents)) as pool:
        replies = list(pool.map(lambda a: a.post(f"/api/v1/console/handoffs/{handoff_id}/accept"), agents))

    winners = [r for r in replies if r.status == 200]
    assert len(winners) == 1
    assert sorted(r.body["error"]["code"] for r in replies if r.status != 200) == ["already_taken"] * 9
    engine = make_engine(stack.settings.database_url)
    with Session(engine) as session:
        accepted = session.scalar(
            select(func.count())
            .select_from(OwnershipEvent)
            .where(OwnershipEvent.handoff_id == handoff_id, OwnershipEvent.to_owner == Owner.HUMAN)
        )
    engine.dispose()
    assert accepted == 1
    winner = agents[[r.status for r in replies].index(200)]
    assert customer.status()["agent_name"] == winner.account["display_name"]
    assert winner.post(f"/api/v1/console/handoffs/{handoff_id}/close").status == 200


async def _console(stack, agent: Staff) -> tuple[aiohttp.ClientSession, aiohttp.ClientWebSocketResponse]:
    session = aiohttp.ClientSession()
    ws = await session.ws_connect(
        f"{stack.settings.gateway_url}/api/v1/console/ws",
        headers={"Cookie": agent.cookie, "Origin": stack.settings.gateway_url},
    )
    return session, ws


async def _messages_until(ws: aiohttp.ClientWebSocketResponse, conversation_id: int, seq: int) -> list[int]:
    seen: list[int] = []
    while not seen or seen[-1] < seq:
        event = json.loads((await asyncio.wait_for(ws.receive(), 10)).data)
        if event["type"] == "message" and event["conversation_id"] == conversation_id:
            seen.append(event["message"]["seq"])
    return seen


def test_the_console_websocket_loses_and_repeats_nothing_across_a_reconnect(stack, team):
    customer = Customer(stack.settings.gateway_url, wuhou())
    escalate(customer)
    agent = login(stack, team.agents[1])
    handoff_id = customer.status()["handoff_id"]
    chat = agent.post(f"/api/v1/console/handoffs/{handoff_id}/accept").body
    conversation_id = chat["conversation_id"]

    async def scenario() -> tuple[list[int], list[int]]:
        session, ws = await _console(stack, agent)
        last = customer.history()[-1]["seq"]
        await ws.send_json({"type": "subscribe", "conversation_id": conversation_id, "after": 0})
        first = await _messages_until(ws, conversation_id, last)
        await ws.close()
        await session.close()
        for text in ("第一条", "第二条"):  # said while the console is away
            await asyncio.to_thread(customer.say, text)
        session, ws = await _console(stack, agent)
        await ws.send_json({"type": "subscribe", "conversation_id": conversation_id, "after": first[-1]})
        await asyncio.to_thread(customer.say, "第三条")  # said after the reconnect: arrives live
        second = await _messages_until(ws, conversation_id, first[-1] + 3)
        await ws.close()
        await session.close()
        return first, second

    first, second = asyncio.run(scenario())
    assert first == list(range(1, first[-1] + 1))
    assert second == [first[-1] + 1, first[-1] + 2, first[-1] + 3]
    agent.post(f"/api/v1/console/handoffs/{handoff_id}/close")


def test_console_routes_refuse_strangers_wrong_roles_and_forged_requests(stack, team):
    base = stack.settings.gateway_url
    document = request("GET", f"{base}/api/v1/openapi.json").body
    console = [
        (path, method)
        for path, operations in document["paths"].items()
        for method in operations
        if path.startswith("/api/v1/console/") and not path.endswith("/ws")
    ]
    assert len(console) >= 15
    for path, method in console:
        concrete = re.sub(r"\{[a-z_]+\}", "1", path)
        reply = request(method.upper(), base + concrete, {} if method == "post" else None)
        assert reply.status == 401, (method, path, reply.status)

    agent = login(stack, team.agents[2])
    assert agent.get("/api/v1/console/manager").status == 403
    assert login(stack, team.manager).get("/api/v1/console/manager").status == 200

    no_csrf = request("POST", f"{base}/api/v1/console/status", {"status": "online"}, headers={"Cookie": agent.cookie})
    assert no_csrf.status == 403 and no_csrf.body["error"]["code"] == "csrf"
    forged = request(
        "POST",
        f"{base}/api/v1/console/status",
        {"status": "online"},
        headers={**agent.headers, "Origin": "https://evil.example"},
    )
    assert forged.status == 403

    # an agent of another grid can neither see nor take a 成都武侯 customer
    customer = Customer(base, wuhou())
    escalate(customer)
    handoff_id = customer.status()["handoff_id"]
    outsider = login(stack, team.outsider)
    assert all(i["handoff_id"] != handoff_id for i in outsider.get("/api/v1/console/queue").body["items"])
    assert outsider.get(f"/api/v1/console/handoffs/{handoff_id}").status == 403
    assert outsider.post(f"/api/v1/console/handoffs/{handoff_id}/accept").status == 403
    customer.say("/griddesk_back_to_bot")

    async def websocket_status(headers: dict[str, str]) -> int:
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(f"{base}/api/v1/console/ws", headers=headers):
                    return 101
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status

    assert asyncio.run(websocket_status({"Origin": base})) == 401
    assert asyncio.run(websocket_status({"Cookie": agent.cookie, "Origin": "https://evil.example"})) == 403
    assert asyncio.run(websocket_status({"Cookie": agent.cookie})) == 403
