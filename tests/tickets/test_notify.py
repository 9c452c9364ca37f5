from __future__ import annotations

from conversations.models import Author
from conversations.transcript import get_or_create_conversation, transcript
from griddesk.db import session_scope
from tests.tickets.factories import make_ticket
from tickets.models import TicketState
from tickets.notify import notify_state_change
from tickets.service import transition


def test_a_state_change_is_posted_into_the_customers_conversation(settings):
    with session_scope() as session:
        get_or_create_conversation(session, "customer-1")
        ticket = make_ticket(session, sender_id="customer-1")
        ticket = transition(session, ticket.number, TicketState.ANALYSING, "agent")
        assert notify_state_change(session, ticket)
    with session_scope() as session:
        [message] = transcript(session, "customer-1")
    assert message.author == Author.SYSTEM
    assert ticket.number in message.text and "分析中" in message.text and "成都武侯网格" in message.text


def test_tickets_without_a_conversation_are_not_notified(settings):
    with session_scope() as session:
        assert not notify_state_change(session, make_ticket(session, sender_id=None))
        assert not notify_state_change(session, make_ticket(session, sender_id="never-chatted"))
