"""The inbox queues an escalated customer and records the notice they are told in one transaction."""

from __future__ import annotations

import pytest
from aiohttp import web
from sqlalchemy import func, select

from conversations.hub import Hub, hub_key
from conversations.models import Author, Conversation, Message, Owner
from gateway import inbox as inbox_module
from gateway.inbox import Inbox, Incoming, Outcome, Recorded
from griddesk.db import session_scope
from handoff import messages
from handoff.models import Handoff
from tests.factories import make_conversation

PACKET = {"reason": "customer_request", "grid": "cd-wuhou"}


def escalating(sender: str) -> tuple[Inbox, Incoming, Recorded]:
    app = web.Application()
    app[hub_key] = Hub()
    with session_scope() as session:
        conversation = make_conversation(session, sender)
        [message] = session.scalars(select(Message).where(Message.conversation_id == conversation.id)).all()
        session.expunge(message)
        recorded = Recorded(conversation.id, message, Owner(conversation.owner))
    return Inbox(app), Incoming(sender, "转人工", None), recorded


def state(sender: str) -> tuple[str, int, list[Author]]:
    with session_scope() as session:
        conversation = session.scalars(select(Conversation).where(Conversation.sender_id == sender)).one()
        authors = session.scalars(
            select(Message.author).where(Message.conversation_id == conversation.id).order_by(Message.seq)
        ).all()
        return conversation.owner, session.scalar(select(func.count()).select_from(Handoff)), list(authors)


async def test_an_escalated_customer_is_queued_and_told_their_place(settings):
    inbox, incoming, recorded = escalating("c1")
    outcome = Outcome()
    await inbox._enqueue(incoming, recorded, PACKET, outcome)
    assert state("c1") == ("queued", 1, [Author.CUSTOMER, Author.SYSTEM])
    [notice] = outcome.replies
    assert (notice["text"], notice["buttons"]) == (messages.queued("成都武侯网格", 1, 300), messages.QUEUE_BUTTONS)


async def test_a_crash_while_recording_the_notice_leaves_the_customer_unqueued(settings, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(inbox_module, "_record_replies", crash)
    inbox, incoming, recorded = escalating("c1")
    with pytest.raises(RuntimeError):
        await inbox._enqueue(incoming, recorded, PACKET, Outcome())
    assert state("c1") == ("bot", 0, [Author.CUSTOMER])
