"""The customer's history endpoint and the gateway's overdue watch."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select

from accounts.models import Role
from gateway.app import create_app
from griddesk.db import session_scope, utcnow
from handoff import messages
from knowledge_base.search import KnowledgeBase
from tests.accounts.conftest import PASSWORD, fast_hashing, make_staff  # noqa: F401 - fixture
from tests.encoders import HashingEncoder
from tests.ids import web_id
from tests.tickets.factories import make_ticket
from tickets.models import Ticket, TicketState
from tickets.notify import notify_state_change
from tickets.service import transition

WEBHOOK = "/webhooks/rest/webhook"
HISTORY = "/webhooks/rest/history"
ALICE, BOB, CAROL, DAVE, NOBODY = (web_id(name) for name in ("alice", "bob", "carol", "dave", "nobody"))


async def test_history_returns_only_the_senders_conversation_after_a_seq(client):
    first = await client.post(WEBHOOK, json={"sender": ALICE, "message": "你好"})
    assert first.headers["X-GridDesk-Seq"] == "1,2"  # the customer's message and the reply it got
    await client.post(WEBHOOK, json={"sender": BOB, "message": "我是 Bob"})
    body = await (await client.get(HISTORY, params={"sender": ALICE})).json()
    assert [(m["seq"], m["author"], m["text"]) for m in body["messages"]] == [
        (1, "customer", "你好"),
        (2, "system", messages.BOT_UNAVAILABLE),
    ]
    later = await (await client.get(HISTORY, params={"sender": ALICE, "after": "1"})).json()
    assert [m["seq"] for m in later["messages"]] == [2]
    assert (await (await client.get(HISTORY, params={"sender": NOBODY})).json()) == {"messages": []}


async def test_ticket_progress_reaches_the_customer_through_history(client):
    await client.post(WEBHOOK, json={"sender": CAROL, "message": "我要报修"})
    with session_scope() as session:
        ticket = make_ticket(session, sender_id=CAROL)
        ticket = transition(session, ticket.number, TicketState.ANALYSING, "agent")
        notify_state_change(session, ticket)
    body = await (await client.get(HISTORY, params={"sender": CAROL, "after": "2"})).json()
    [news] = body["messages"]
    assert news["author"] == "system" and ticket.number in news["text"] and "分析中" in news["text"]


async def test_history_rejects_bad_parameters(client):
    for params, status in [({}, 422), ({"sender": "a" * 129}, 422), ({"sender": ALICE, "after": "x"}, 400)]:
        response = await client.get(HISTORY, params=params)
        assert response.status == status
        assert (await response.json())["error"]["code"]


async def test_the_running_gateway_marks_overdue_tickets(aiohttp_client, gateway_settings):
    settings = dataclasses.replace(gateway_settings, watch_seconds=0.1)
    await aiohttp_client(
        create_app(settings, knowledge_base=KnowledgeBase(settings, HashingEncoder()), warm_index=False)
    )
    past = utcnow() - timedelta(hours=2)
    with session_scope() as session:
        number = make_ticket(session, clock=lambda: past).number
    for _ in range(50):
        with session_scope() as session:
            if session.scalar(select(Ticket.overdue).where(Ticket.number == number)):
                return
        await asyncio.sleep(0.1)
    raise AssertionError("the gateway's overdue watch did not mark the ticket")


@pytest.mark.usefixtures("fast_hashing")
async def test_a_transition_through_the_api_tells_the_customer(aiohttp_client, gateway_settings):
    settings = dataclasses.replace(gateway_settings, cookie_secure=False)  # plain HTTP: keep the login cookie
    client = await aiohttp_client(
        create_app(settings, knowledge_base=KnowledgeBase(settings, HashingEncoder()), warm_index=False)
    )
    await client.post(WEBHOOK, json={"sender": DAVE, "message": "我要报修"})
    with session_scope() as session:
        number = make_ticket(session, sender_id=DAVE).number
        make_staff(session, "zhang.wei", Role.AGENT, ("cd-wuhou",))  # an agent of the ticket's grid
    login = await client.post("/api/v1/auth/login", json={"username": "zhang.wei", "password": PASSWORD})
    response = await client.post(
        f"/api/v1/tickets/{number}/transition",
        json={"to": "analysing"},
        headers={"X-CSRF-Token": (await login.json())["csrf_token"]},
    )
    assert response.status == 200
    body = await (await client.get(HISTORY, params={"sender": DAVE, "after": "2"})).json()
    assert [m["author"] for m in body["messages"]] == ["system"] and number in body["messages"][0]["text"]
