"""Messages the bot could not answer are followed up: never said twice, handed to a person when the wait grows
too long, left to people who took the conversation, counted for staff. Rasa here is a port where nothing
answers (a real outage); the bot answering them when it is back, in order, is in
tests/integration/test_durability.py with the real Rasa."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from accounts.models import Role
from conversations.backlog import HORIZON, bot_backlog
from conversations.models import Author, Conversation, Message, MessageStatus, Owner
from conversations.transcript import transcript
from gateway.app import create_app
from gateway.inbox import follow_up_key
from gateway.recovery import MIN_LEASE, claim_oldest, follow_up_all
from griddesk.db import session_scope, utcnow
from handoff import messages
from handoff.models import Handoff, HandoffReason
from knowledge_base.search import KnowledgeBase
from tests.accounts.conftest import PASSWORD, fast_hashing, make_staff  # noqa: F401 - fixture
from tests.encoders import HashingEncoder

WEBHOOK = "/webhooks/rest/webhook"


def new_sender() -> str:
    return secrets.token_hex(16)


@pytest.fixture
def make_client(aiohttp_client, gateway_settings):
    async def make(periodic: bool = False, **changes):
        settings = dataclasses.replace(gateway_settings, cookie_secure=False, queue_sweep_seconds=3600, **changes)
        kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
        app = create_app(
            settings, knowledge_base=kb, warm_index=False, watch_overdue=False, follow_up_unanswered=periodic
        )
        return await aiohttp_client(app)

    return make


async def say(client, sender: str, text: str) -> list[dict]:
    response = await client.post(WEBHOOK, json={"sender": sender, "message": text})
    assert response.status == 200
    return await response.json()


def entries(sender: str) -> list[tuple[Author, str | None, MessageStatus]]:
    with session_scope() as session:
        return [(m.author, m.text, m.status) for m in transcript(session, sender)]


def age(sender: str, seconds: float) -> None:
    """Make the conversation's messages ``seconds`` older."""
    with session_scope() as session:
        conversation_id = session.scalar(select(Conversation.id).where(Conversation.sender_id == sender))
        for message in session.scalars(select(Message).where(Message.conversation_id == conversation_id)):
            message.created_at = message.created_at - timedelta(seconds=seconds)


def owner_of(sender: str) -> str:
    with session_scope() as session:
        return session.scalar(select(Conversation.owner).where(Conversation.sender_id == sender))


async def test_while_the_bot_is_away_a_waiting_message_is_kept_and_nothing_more_is_said(make_client):
    client = await make_client()
    sender = new_sender()
    await say(client, sender, "怎么开发票")
    await follow_up_all(client.app)
    assert entries(sender) == [
        (Author.CUSTOMER, "怎么开发票", MessageStatus.UNANSWERED),
        (Author.SYSTEM, messages.BOT_UNAVAILABLE, MessageStatus.SENT),
    ]
    with session_scope() as session:  # released for the next pass
        assert session.scalar(select(Message.retry_claimed_at).where(Message.author == Author.CUSTOMER)) is None


async def test_a_new_message_while_the_bot_is_away_is_kept_behind_the_unanswered_ones(make_client):
    client = await make_client()
    sender = new_sender()
    await say(client, sender, "第一个问题")
    reply = await say(client, sender, "第二个问题")
    assert reply == [{"recipient_id": sender, "text": messages.BOT_UNAVAILABLE}]
    assert [status for author, _, status in entries(sender) if author == Author.CUSTOMER] == [
        MessageStatus.UNANSWERED,
        MessageStatus.UNANSWERED,
    ]


async def test_a_message_waiting_too_long_goes_to_a_person_with_a_word_to_the_customer(make_client):
    client = await make_client(unanswered_handoff_seconds=300)
    sender = new_sender()
    await say(client, sender, "宽带断了怎么办")
    await say(client, sender, "还在吗")
    age(sender, 301)
    await follow_up_all(client.app)
    assert owner_of(sender) == Owner.QUEUED
    with session_scope() as session:
        handoff = session.scalars(select(Handoff)).one()
        assert handoff.reason == HandoffReason.BOT_UNAVAILABLE
        assert handoff.packet["summary"] == "宽带断了怎么办"
        assert handoff.grid_code  # routed like any escalation of an anonymous customer
    texts = [(author, text, status) for author, text, status in entries(sender)]
    # both questions are now the agent's (received), the customer is told and given their place
    assert [status for author, _, status in texts if author == Author.CUSTOMER] == [MessageStatus.RECEIVED] * 2
    assert texts[-2][1] == messages.BOT_UNAVAILABLE_HANDED_OVER
    assert texts[-1][1].startswith("已为您转接")


async def test_a_younger_message_is_not_handed_over(make_client):
    client = await make_client(unanswered_handoff_seconds=300)
    sender = new_sender()
    await say(client, sender, "宽带断了怎么办")
    age(sender, 200)
    await follow_up_all(client.app)
    assert owner_of(sender) == Owner.BOT


async def test_zero_means_always_wait_for_the_bot(make_client):
    client = await make_client(unanswered_handoff_seconds=0)
    sender = new_sender()
    await say(client, sender, "宽带断了怎么办")
    age(sender, 86000)
    await follow_up_all(client.app)
    assert owner_of(sender) == Owner.BOT


async def test_messages_of_a_conversation_people_took_meanwhile_are_left_to_them(make_client):
    client = await make_client()
    sender = new_sender()
    await say(client, sender, "发票开错了")
    with session_scope() as session:
        session.execute(update(Conversation).where(Conversation.sender_id == sender).values(owner=Owner.HUMAN))
    assert await client.app[follow_up_key](_conversation_id(sender)) is True
    assert [status for author, _, status in entries(sender) if author == Author.CUSTOMER] == [MessageStatus.RECEIVED]
    with session_scope() as session:
        assert session.scalars(select(Handoff)).all() == []


async def test_day_old_messages_are_history_not_followed_up(make_client):
    client = await make_client(unanswered_handoff_seconds=300)
    sender = new_sender()
    await say(client, sender, "昨天的问题")
    age(sender, HORIZON.total_seconds() + 60)
    await follow_up_all(client.app)
    assert owner_of(sender) == Owner.BOT
    with session_scope() as session:
        assert bot_backlog(session, utcnow()).messages == 0


def _conversation_id(sender: str) -> int:
    with session_scope() as session:
        return session.scalar(select(Conversation.id).where(Conversation.sender_id == sender))


async def test_a_claimed_message_is_not_claimed_again_until_the_lease_ends(make_client):
    client = await make_client()
    sender = new_sender()
    await say(client, sender, "怎么开发票")
    conversation_id, now = _conversation_id(sender), utcnow()
    with session_scope() as session:
        first = claim_oldest(session, conversation_id, now, MIN_LEASE)
    with session_scope() as session:
        second = claim_oldest(session, conversation_id, now + MIN_LEASE / 2, MIN_LEASE)
    with session_scope() as session:
        after_lease = claim_oldest(session, conversation_id, now + MIN_LEASE * 2, MIN_LEASE)
    assert first is not None and first.message.text == "怎么开发票"
    assert second is None  # another gateway is on it
    assert after_lease is not None and after_lease.message.id == first.message.id  # that gateway died


async def test_the_periodic_pass_hands_over_without_anyone_writing_again(make_client):
    client = await make_client(unanswered_handoff_seconds=1, periodic=True)
    sender = new_sender()
    await say(client, sender, "宽带断了怎么办")
    age(sender, 5)
    for _ in range(100):  # the pass runs every few seconds
        if owner_of(sender) == Owner.QUEUED:
            break
        await asyncio.sleep(0.2)
    assert owner_of(sender) == Owner.QUEUED


async def test_managers_see_what_waits_for_the_bot_as_counts_only(make_client, settings):
    client = await make_client()
    with session_scope() as session:
        make_staff(session, "wang.min", Role.MANAGER, ("cd-wuhou",), display_name="王敏")
    first, second = new_sender(), new_sender()
    await say(client, first, "问题一")
    await say(client, first, "问题二")
    await say(client, second, "问题三")
    age(first, 90)
    response = await client.post("/api/v1/auth/login", json={"username": "wang.min", "password": PASSWORD})
    assert response.status == 200
    body = await (await client.get("/api/v1/console/manager")).json()
    backlog = body["bot_backlog"]
    assert (backlog["conversations"], backlog["messages"]) == (2, 3)
    assert 90 <= backlog["oldest_seconds"] < 200
    assert first not in str(body) and "问题" not in str(body)
