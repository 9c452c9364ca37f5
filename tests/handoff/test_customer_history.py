"""A verified customer's history for the console: their record, conversations on every device and channel,
and tickets; who on the staff may see it (their grids' customers only)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conversations.models import Author, MessageStatus
from conversations.transcript import append_messages
from griddesk.db import session_scope
from handoff.customer_history import CustomerNotFound, customer_history, customer_in_grids
from tests.factories import customer_of, make_account, make_conversation, make_customer, make_handoff
from tests.tickets.factories import make_ticket

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
WANG = make_customer("u-1001", name="王先生", phone="13800138000", region="成都市武侯区", tier="key")


def test_the_history_lists_every_conversation_and_ticket_of_the_customer(settings):
    with session_scope() as session:
        phone = make_conversation(session, "phone-1", ["宽带断了"], customer=WANG)
        laptop = make_conversation(session, "laptop-1", ["发票怎么开"], channel="socketio", customer=WANG)
        append_messages(session, laptop.id, [(Author.BOT, "请在公众号申请。", None, MessageStatus.SENT)])
        make_conversation(session, "stranger-1", ["你好"])
        ticket = make_ticket(session, sender_id="phone-1")
        make_ticket(session, sender_id="stranger-1")
        customer = customer_of(session)
        history = customer_history(session, customer.id)

    assert (history.customer.external_id, history.customer.name, history.customer.tier) == ("u-1001", "王先生", "key")
    assert {c.conversation_id for c in history.conversations} == {phone.id, laptop.id}
    by_id = {c.conversation_id: c for c in history.conversations}
    assert (by_id[laptop.id].channel, by_id[laptop.id].owner) == ("socketio", "bot")
    assert (by_id[laptop.id].last_message_author, by_id[laptop.id].last_message_text) == ("bot", "请在公众号申请。")
    assert by_id[phone.id].last_message_text == "宽带断了"
    assert [(t.number, t.state, t.category) for t in history.tickets] == [(ticket.number, "accepted", "fault")]


def test_an_unknown_customer_is_not_found(settings):
    with session_scope() as session, pytest.raises(CustomerNotFound):
        customer_history(session, 999)


def test_staff_see_customers_handed_to_their_grids_or_with_tickets_there(settings):
    with session_scope() as session:
        make_conversation(session, "phone-1", customer=WANG)
        make_handoff(session, "phone-1", grid="cd-wuhou", now=NOW)
        make_conversation(session, "other-1", customer=make_customer("u-2002", region="上海市浦东新区"))
        make_ticket(session, sender_id="other-1", region="上海市浦东新区")
        make_conversation(session, "quiet-1", customer=make_customer("u-3003"))
        pudong_agent = make_account(session, "pd", grids=["sh-pudong"])
        wang, other, quiet = (customer_of(session, ext).id for ext in ("u-1001", "u-2002", "u-3003"))

        assert customer_in_grids(session, wang, ["cd-wuhou"], account_id=0)
        assert not customer_in_grids(session, wang, ["sh-pudong"], account_id=pudong_agent.id)
        assert customer_in_grids(session, other, ["sh-pudong"], account_id=pudong_agent.id)  # by its ticket
        assert not customer_in_grids(session, quiet, ["cd-wuhou", "sh-pudong"], account_id=0)
        assert customer_in_grids(session, quiet, None, account_id=0)  # admins: everyone
