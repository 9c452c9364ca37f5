"""Tickets in chat against the real stack: Rasa, the action server and the gateway, one database.

Every test talks as a fresh customer (its own sender id): some lookup locks belong to a conversation.
All these customers share one client address (127.0.0.1), and with it the per-client limit of failed
lookups (20 a day): the tests here stay under it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session

from tests.integration.client import Customer
from tickets.models import Alert, Category, LookupFailure, LookupGuard, Ticket, TicketEvent
from tickets.service import NewTicket, open_ticket

pytestmark = pytest.mark.integration
NUMBER = re.compile(r"GD-[A-Z0-9]{6}")


@pytest.fixture(scope="module")
def database(stack) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    engine = create_engine(stack.settings.database_url)
    yield engine
    engine.dispose()


def tickets_of(database: Engine, sender: str) -> list[Ticket]:
    with Session(database) as session:
        return list(session.scalars(select(Ticket).where(Ticket.sender_id == sender)))


def open_complaint(customer: Customer) -> tuple[str, list[dict]]:
    """The whole form through the gateway; returns the ticket number and the summary reply."""
    first = customer.texts("我要投诉，宽带三天没修好")
    assert len(first) == 2 and "投诉" in first[0] and "电话" in first[1]  # the problem is not asked again
    assert "称呼" in customer.texts("13812345678")[0]
    assert "城市" in customer.texts("张三")[0]
    summary = customer.say("成都市武侯区")
    opened = customer.texts("/affirm")
    match = NUMBER.search(opened[0])
    assert match, opened
    assert "1小时内联系您" in opened[0] and "成都武侯网格" in opened[0]
    # a complaint also goes straight to a person (queued, or already served when an agent of the grid is free),
    # the ticket number in the handoff packet
    assert customer.status()["owner"] in ("queued", "human") and any("转接" in t for t in opened[1:])
    customer.say("/griddesk_back_to_bot")
    return match.group(0), summary


@pytest.fixture(scope="module")
def opened_ticket(stack) -> str:  # type: ignore[no-untyped-def]
    number, _ = open_complaint(Customer(stack.settings.gateway_url))
    return number


def test_a_ticket_opened_in_chat_is_stored_with_its_fields_and_an_audit_event(stack, database):
    customer = Customer(stack.settings.gateway_url)
    number, summary = open_complaint(customer)
    [message] = summary
    assert "宽带三天没修好" in message["text"] and "13812345678" in message["text"]
    assert [b["title"] for b in message["buttons"]] == ["确认提交", "修改"]
    [ticket] = tickets_of(database, customer.sender)
    assert (
        ticket.number,
        ticket.category,
        ticket.description,
        ticket.contact_phone,
        ticket.contact_name,
        ticket.region,
        ticket.grid_code,
        ticket.state,
    ) == (number, "complaint", "宽带三天没修好", "13812345678", "张三", "成都市武侯区", "cd-wuhou", "accepted")
    with Session(database) as session:
        events = list(session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)))
    assert [(e.kind, e.actor, e.to_state) for e in events] == [("created", "customer", "accepted")]


def test_a_refund_with_an_amount_and_a_corrected_phone_is_stored_as_confirmed(stack, database):
    customer = Customer(stack.settings.gateway_url)
    assert "描述" in customer.texts("我要申请退款")[0]
    assert "金额" in customer.texts("退宽带设备押金，设备已经还了")[0]
    assert "电话" in customer.texts("六千")[0]
    customer.say("13812345678")
    customer.say("我叫李四")
    assert "6000元" in customer.texts("成都市锦江区")[0]
    assert "电话" in customer.texts("电话写错了")[0]
    assert "13912345678" in customer.texts("13912345678")[0]  # the summary again, with the new phone
    opened = customer.texts("确认提交")
    assert "账务网格" in opened[0] and "网格经理审批" in opened[1]
    [ticket] = tickets_of(database, customer.sender)
    assert (ticket.category, ticket.contact_phone, str(ticket.amount_yuan), ticket.needs_approval) == (
        "refund",
        "13912345678",
        "6000.00",
        True,
    )


def test_cancelling_in_the_middle_of_the_form_creates_nothing(stack, database):
    customer = Customer(stack.settings.gateway_url)
    assert "电话" in customer.texts("家里宽带断了，帮我报修")[0]
    customer.say("13812345678")
    assert "没有提交工单" in customer.texts("算了")[0]
    assert "没有提交工单" not in customer.texts("/affirm")[0]  # nothing left to confirm
    assert tickets_of(database, customer.sender) == []


def test_three_invalid_answers_hand_the_customer_to_a_human_and_create_nothing(stack, database):
    customer = Customer(stack.settings.gateway_url)
    customer.say("家里宽带断了，帮我报修")
    for text in ("12345", "138123"):
        reply = customer.texts(text)
        assert "号码好像不对" in reply[0] and "电话" in reply[1]
    replies = customer.texts("不知道")
    assert any("转接" in t for t in replies), replies
    assert customer.status()["owner"] == "queued"
    assert tickets_of(database, customer.sender) == []
    customer.say("/griddesk_back_to_bot")


def test_a_lookup_with_wrong_digits_reveals_nothing_and_the_right_digits_show_the_state(stack, opened_ticket):
    customer = Customer(stack.settings.gateway_url)
    assert "后4位" in customer.texts(f"查一下{opened_ticket}")[0]
    [wrong] = customer.texts("0000")
    assert "未能核实" in wrong
    assert opened_ticket not in wrong and "已受理" not in wrong and "网格" not in wrong
    customer.say("查一下GD-ZZZZZZ")
    assert customer.texts("5678") == [wrong]  # no such ticket: the very same answer
    customer.say(f"查一下{opened_ticket}")
    [found] = customer.texts("5678")
    assert opened_ticket in found and "已受理" in found and "成都武侯网格" in found
    assert re.search(r"\d{1,2}月\d{1,2}日 \d{2}:\d{2}", found)


def test_five_wrong_tries_lock_lookups_for_15_minutes_with_the_same_answer(stack, database, opened_ticket):
    customer = Customer(stack.settings.gateway_url)
    customer.say(f"查询工单{opened_ticket}")
    [wrong] = customer.texts("1111")
    for _ in range(4):
        customer.say(f"查询工单{opened_ticket}")
        assert customer.texts("1111") == [wrong]
    customer.say(f"查询工单{opened_ticket}")
    assert customer.texts("5678") == [wrong]  # locked: the right digits get the wrong digits' answer
    with Session(database) as session:
        guard = session.scalars(
            select(LookupGuard).where(LookupGuard.sender_id == customer.sender, LookupGuard.target == opened_ticket)
        ).one()
    assert guard.failures == 5
    assert guard.locked_until is not None
    assert timedelta(minutes=13) < guard.locked_until - datetime.now(UTC) <= timedelta(minutes=15)


def test_a_new_conversation_for_every_guess_gains_nothing(stack, database):
    with Session(database) as session:
        number = open_ticket(
            session,
            NewTicket(Category.FAULT, "宽带一直断网，重启也没用", "13812345678", "张三", "成都市武侯区"),
        ).number
        session.commit()
    answers = []
    for guess in range(10):
        guesser = Customer(stack.settings.gateway_url)
        guesser.say(f"查一下{number}")
        answers += guesser.texts(f"{1000 + guess}")
    owner = Customer(stack.settings.gateway_url)
    owner.say(f"查一下{number}")
    assert owner.texts("5678") == answers[:1] and set(answers) == set(answers[:1])  # the ticket is locked
    with Session(database) as session:
        clients = session.scalars(select(LookupFailure.client).where(LookupFailure.target == number)).all()
        alerts = session.scalars(select(Alert).where(Alert.kind == "lookup_locked")).all()
    # every failure was counted for the gateway's identifier of this client, which reached the action server
    assert len(clients) == 10 and len(set(clients)) == 1 and re.fullmatch(r"[0-9a-f]{32}", clients[0] or "")
    assert [a.grid_code for a in alerts if number in a.message] == ["cd-wuhou"]


def test_my_tickets_lists_what_the_conversation_opened_and_asks_others_for_a_number(stack):
    customer = Customer(stack.settings.gateway_url)
    number, _ = open_complaint(customer)
    [listing] = customer.say("我的工单")
    assert number in listing["text"] and listing["buttons"][0]["title"] == number
    [status] = customer.texts(listing["buttons"][0]["payload"])
    assert number in status and "已受理" in status
    stranger = Customer(stack.settings.gateway_url)
    assert "工单号" in stranger.texts("我的工单")[0]


# Each validation branch through the real Rasa server: the form reaches the field, an invalid
# value gets that field's own re-prompt (and the same question again), a valid one moves on.
BRANCHES = [
    ("我要报修", [], "坏了", "描述有点太简短", "光猫一直亮红灯，上不了网", "电话"),
    ("我要投诉，宽带三天没修好", [], "12345", "号码好像不对", "13812345678", "称呼"),
    ("我要投訴，寬帶三天沒修好", [], "138-0000", "号码好像不对", "028-85551234", "称呼"),  # Traditional
    ("我要投诉，宽带三天没修好", ["13812345678"], "张3", "不能有数字", "张三", "城市"),
    ("我要投诉，宽带三天没修好", ["13812345678", "张三"], "abc", "没能识别这个地区", "成都市武侯区", "确认"),
    ("重复扣费了，帮我退款", [], "很多钱", "金额格式不对", "200元", "电话"),  # refunds: the amount next
]


@pytest.mark.parametrize("start, answers, invalid, reprompt, valid, next_question", BRANCHES)
def test_each_invalid_value_gets_its_own_reprompt_through_the_real_bot(
    stack, database, start, answers, invalid, reprompt, valid, next_question
):
    customer = Customer(stack.settings.gateway_url)
    customer.say(start)
    for answer in answers:
        customer.say(answer)
    replies = " ".join(customer.texts(invalid))
    assert reprompt in replies, replies
    assert next_question in " ".join(t or "" for t in customer.texts(valid))
    assert tickets_of(database, customer.sender) == []  # nothing is created before the confirmation
