"""action_open_ticket and action_check_ticket against the real ticket service and a migrated database."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from actions import ticket_client
from actions.texts import local_time_zh
from actions.tickets import ActionCheckTicket, ActionOpenTicket
from griddesk.db import session_scope
from tests.actions.trackers import (
    domain,
    handoff_packets,
    responses,
    run,
    slot_values,
    snapshot,
    verified,
)
from tickets import service
from tickets.models import Category, Ticket, TicketEvent, TicketState

DRAFT = {
    "ticket_category": "complaint",
    "ticket_description": "宽带三天没修好",
    "ticket_phone": "13812345678",
    "ticket_name": "张三",
    "ticket_region": "成都市武侯区",
    "ticket_confirming": True,
}


def stored(number: str) -> tuple[Ticket, list[TicketEvent]]:
    with session_scope() as session:
        ticket = service.get_ticket(session, number)
        return ticket, service.history(session, ticket)


def all_tickets() -> list[Ticket]:
    with session_scope() as session:
        return list(session.scalars(select(Ticket)))


def make_ticket(phone: str = "13812345678", sender_id: str = "someone-else") -> str:
    with session_scope() as session:
        return service.open_ticket(
            session,
            service.NewTicket(
                category=Category.FAULT,
                description="宽带一直断网",
                contact_phone=phone,
                contact_name="李四",
                region="成都市锦江区",
                sender_id=sender_id,
            ),
        ).number


# --- opening ------------------------------------------------------------------------------------


async def test_a_confirmed_complaint_is_opened_with_the_promise_of_its_grid(settings, open_hours):
    events, dispatcher = await run(ActionOpenTicket(), snapshot("ticket_confirming", **DRAFT))
    message = dispatcher.messages[0]
    assert message["response"] == "utter_ticket_opened_complaint"
    assert (message["grid_name"], message["contact_within"]) == ("成都武侯网格", "1小时")
    ticket, history = stored(message["ticket_number"])
    assert (ticket.category, ticket.description, ticket.contact_phone, ticket.contact_name, ticket.region) == (
        "complaint",
        "宽带三天没修好",
        "13812345678",
        "张三",
        "成都市武侯区",
    )
    assert (ticket.sender_id, ticket.customer_tier, ticket.amount_yuan, ticket.state) == (
        "customer-7",
        "general",
        None,
        TicketState.ACCEPTED,
    )
    assert [(e.kind, e.actor, e.to_state) for e in history] == [("created", "customer", "accepted")]
    values = slot_values(events)
    assert values.pop("ticket_confirming") is False
    assert all(value is None for value in values.values()) and "ticket_phone" in values


async def test_other_tickets_promise_a_response_and_an_initial_solution(settings):
    _, dispatcher = await run(ActionOpenTicket(), snapshot("ticket_confirming", **DRAFT | {"ticket_category": "fault"}))
    [message] = dispatcher.messages
    assert message["response"] == "utter_ticket_opened"
    assert (message["response_within"], message["solution_days"]) == ("30分钟", 2)


async def test_a_suggestion_promises_a_reply_in_working_days(settings):
    tracker = snapshot("ticket_confirming", **DRAFT | {"ticket_category": "suggestion"})
    _, dispatcher = await run(ActionOpenTicket(), tracker)
    [message] = dispatcher.messages
    assert (message["response"], message["reply_days"]) == ("utter_ticket_opened_suggestion", 3)


async def test_a_key_account_gets_its_grids_shorter_promise(settings, open_hours):
    tracker = snapshot("ticket_confirming", **DRAFT, metadata=verified(tier="key"))
    _, dispatcher = await run(ActionOpenTicket(), tracker)
    message = dispatcher.messages[0]
    assert (message["grid_name"], message["contact_within"]) == ("重要客户网格", "30分钟")
    assert stored(message["ticket_number"])[0].customer_tier == "key"


async def test_a_tier_the_page_claims_or_a_tier_slot_gives_no_priority(settings, open_hours):
    forged = {"customer": {"tier": "key"}, "griddesk_customer": {}}
    tracker = snapshot(
        "ticket_confirming", **DRAFT | {"ticket_category": "fault"}, customer_tier="key", metadata=forged
    )
    _, dispatcher = await run(ActionOpenTicket(), tracker)
    ticket, _ = stored(dispatcher.messages[0]["ticket_number"])
    assert (ticket.customer_tier, ticket.priority) == ("general", "high")  # a fault's own priority, not one up


async def test_a_refund_of_5000_or_more_needs_the_grid_managers_approval(settings):
    draft = {**DRAFT, "ticket_category": "refund", "ticket_amount": "6000.00"}
    _, dispatcher = await run(ActionOpenTicket(), snapshot("ticket_confirming", **draft))
    opened, approval = dispatcher.messages
    assert (opened["response"], opened["grid_name"]) == ("utter_ticket_opened", "账务网格")
    assert (approval["response"], approval["amount"], approval["approval_amount"]) == (
        "utter_ticket_needs_approval",
        "6000",
        5000,
    )
    ticket, _ = stored(opened["ticket_number"])
    assert ticket.amount_yuan == Decimal("6000.00") and ticket.needs_approval


async def test_a_small_refund_needs_no_approval(settings):
    draft = {**DRAFT, "ticket_category": "refund", "ticket_amount": "200.00"}
    _, dispatcher = await run(ActionOpenTicket(), snapshot("ticket_confirming", **draft))
    assert responses(dispatcher) == ["utter_ticket_opened"]


async def test_an_incomplete_draft_opens_nothing(settings):
    _, dispatcher = await run(ActionOpenTicket(), snapshot("ticket_confirming", **{**DRAFT, "ticket_phone": None}))
    assert responses(dispatcher) == ["utter_ticket_open_failed"]
    assert all_tickets() == []


async def test_when_the_database_fails_the_draft_is_kept_for_another_try(settings, monkeypatch):
    def broken(_new):
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(ticket_client, "open_ticket", broken)
    events, dispatcher = await run(ActionOpenTicket(), snapshot("ticket_confirming", **DRAFT))
    assert responses(dispatcher) == ["utter_ticket_open_failed"] and events == []


async def test_a_complaint_ticket_is_handed_to_a_human_with_its_number(settings, open_hours):
    _, dispatcher = await run(ActionOpenTicket(), snapshot("ticket_confirming", **DRAFT))
    assert responses(dispatcher)[:2] == ["utter_ticket_opened_complaint", "utter_human_transferring"]
    number = dispatcher.messages[0]["ticket_number"]
    [packet] = handoff_packets(dispatcher)
    assert (packet["reason"], packet["grid"], packet["ticket_number"], packet["skill"]) == (
        "complaint",
        "cd-wuhou",
        number,
        "complaint",
    )
    assert "draft_ticket" not in packet  # the ticket exists
    assert "profile" not in packet  # an anonymous customer: the form's name and region are in the ticket only
    assert packet["summary"] == "我要投诉，宽带三天没修好"


async def test_a_complaint_at_night_points_to_the_ticket_instead_of_a_queue(settings, night):
    _, dispatcher = await run(ActionOpenTicket(), snapshot("ticket_confirming", **DRAFT))
    assert responses(dispatcher) == ["utter_ticket_opened_complaint", "utter_human_closed_ticket_opened"]
    closed = dispatcher.messages[1]
    assert (closed["ticket_number"], closed["hours"]) == (dispatcher.messages[0]["ticket_number"], "每天 8:00–22:00")
    assert handoff_packets(dispatcher) == []


async def test_other_tickets_are_not_handed_to_a_human(settings, open_hours):
    _, dispatcher = await run(ActionOpenTicket(), snapshot("ticket_confirming", **DRAFT | {"ticket_category": "fault"}))
    assert handoff_packets(dispatcher) == [] and responses(dispatcher) == ["utter_ticket_opened"]


# --- checking -----------------------------------------------------------------------------------


async def check(
    sender: str = "customer-7",
    ticket_number: str | None = None,
    ticket_last4: str | None = None,
    client: str | None = None,
):
    """action_check_ticket; ``client`` is the identifier the gateway puts in the message's metadata."""
    metadata = None if client is None else {"griddesk_client": client}
    return await run(
        ActionCheckTicket(),
        snapshot(
            "ticket_lookup_done",
            sender_id=sender,
            metadata=metadata,
            ticket_number=ticket_number,
            ticket_last4=ticket_last4,
        ),
    )


async def test_the_right_digits_show_state_grid_and_next_deadline(settings):
    number = make_ticket()
    events, dispatcher = await check(ticket_number=number, ticket_last4="5678")
    [message] = dispatcher.messages
    assert message["response"] == "utter_ticket_status"
    assert (message["ticket_number"], message["state"], message["category"], message["grid_name"]) == (
        number,
        "已受理",
        "故障报修",
        "成都锦江网格",
    )
    ticket, _ = stored(number)
    assert message["due"] == local_time_zh(ticket.step_due_at)
    assert slot_values(events) == {"ticket_number": None, "ticket_last4": None, "ticket_failures": None}


async def test_wrong_digits_and_an_unknown_number_get_the_same_neutral_answer(settings):
    number = make_ticket()
    _, wrong = await check(ticket_number=number, ticket_last4="0000")
    _, unknown = await check(ticket_number="GD-ZZZZZZ", ticket_last4="5678")
    assert wrong.messages == unknown.messages
    assert responses(wrong) == ["utter_ticket_lookup_denied"]


async def test_a_locked_lookup_answers_exactly_like_wrong_digits(settings):
    number = make_ticket()
    _, wrong = await check(ticket_number=number, ticket_last4="0000")
    for _ in range(4):  # the fifth failure locks this conversation's lookups of the ticket
        await check(ticket_number=number, ticket_last4="0000")
    _, locked = await check(ticket_number=number, ticket_last4="5678")  # even the right digits now
    assert locked.messages == wrong.messages and responses(wrong) == ["utter_ticket_lookup_denied"]
    _, dispatcher = await check(sender="another-customer", ticket_number=number, ticket_last4="5678")
    assert responses(dispatcher) == ["utter_ticket_status"]  # this lock is the conversation's


async def test_a_new_conversation_every_four_guesses_gets_nothing_out_of_the_ticket(settings):
    number = make_ticket()
    answers = [
        (await check(sender=f"guesser-{i // 4}", ticket_number=number, ticket_last4=f"{i:04d}"))[1] for i in range(10)
    ]
    # ten failures from any conversations lock the ticket: a brand-new conversation with the right digits
    # gets the very answer every wrong guess got
    _, right = await check(sender="guesser-new", ticket_number=number, ticket_last4="5678")
    assert responses(right) == ["utter_ticket_lookup_denied"]
    assert all(answer.messages == right.messages for answer in answers)


ATTACKER, NEIGHBOUR = "a" * 32, "b" * 32  # client identifiers as the gateway makes them


async def test_one_client_address_rotating_conversations_is_locked_out_of_every_ticket(settings):
    targets = [make_ticket(phone=f"1391234{n:04d}") for n in range(4)]
    for i in range(20):  # 7 + 7 + 6 failures over three tickets, a new conversation for each
        await check(sender=f"bot-{i}", ticket_number=targets[i % 3], ticket_last4=f"{100 + i:04d}", client=ATTACKER)
    _, dispatcher = await check(sender="bot-new", ticket_number=targets[3], ticket_last4="0003", client=ATTACKER)
    assert responses(dispatcher) == ["utter_ticket_lookup_denied"]
    _, dispatcher = await check(sender="customer-x", ticket_number=targets[3], ticket_last4="0003", client=NEIGHBOUR)
    assert responses(dispatcher) == ["utter_ticket_status"]  # another address is not locked out


async def test_a_resolved_ticket_has_no_deadline_to_show(settings):
    number = make_ticket(sender_id="customer-7")
    with session_scope() as session:
        for state in (TicketState.ANALYSING, TicketState.IN_PROGRESS, TicketState.RESOLVED):
            service.transition(session, number, state, actor="agent-1")
    _, dispatcher = await check(ticket_number=number)
    [message] = dispatcher.messages
    assert (message["response"], message["state"]) == ("utter_ticket_status_no_deadline", "已解决")


async def test_my_tickets_lists_what_this_conversation_has_proved(settings):
    mine = [make_ticket(sender_id="customer-7"), make_ticket(phone="13912345678", sender_id="customer-7")]
    make_ticket(phone="13700000000")  # someone else's
    _, dispatcher = await check()
    [message] = dispatcher.messages
    assert message["response"] == "utter_my_tickets"
    assert sorted(b["title"] for b in message["buttons"]) == sorted(mine)
    assert message["buttons"][0]["payload"] == f'/check_ticket{{"ticket_id": "{message["buttons"][0]["title"]}"}}'
    assert all(f"{number} · 故障报修 · 已受理" in message["tickets"] for number in mine)


async def test_verifying_one_ticket_does_not_open_the_other_tickets_of_the_same_phone(settings):
    first = make_ticket(sender_id="conversation-a")
    second = make_ticket(sender_id="conversation-b")  # the same contact phone
    await check(ticket_number=first, ticket_last4="5678")
    _, listing = await check()
    [message] = listing.messages
    assert message["response"] == "utter_my_tickets" and [b["title"] for b in message["buttons"]] == [first]
    _, dispatcher = await check(ticket_number=second)  # without digits: nothing
    assert dispatcher.messages == []


async def test_a_number_this_conversation_has_proved_needs_no_digits(settings):
    number = make_ticket(sender_id="customer-7")
    _, dispatcher = await check(ticket_number=number)
    assert responses(dispatcher) == ["utter_ticket_status"]


async def test_without_digits_another_customers_ticket_shows_nothing(settings):
    number = make_ticket()
    _, dispatcher = await check(ticket_number=number)
    assert dispatcher.messages == []  # the form stopped after invalid digits; a human was offered


async def test_when_the_database_fails_the_customer_is_told_to_try_later(settings, monkeypatch):
    def broken(*_args):
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(ticket_client, "lookup_ticket", broken)
    _, dispatcher = await check(ticket_number="GD-7K3QX9", ticket_last4="5678")
    assert responses(dispatcher) == ["utter_ticket_lookup_failed"]


async def test_a_lookup_given_up_after_repeated_invalid_answers_hands_over(settings, open_hours):
    tracker = snapshot(
        "ticket_lookup_done", ticket_number="GD-7K3QX9", ticket_last4=None, ticket_failures={"ticket_last4": 3}
    )
    events, dispatcher = await run(ActionCheckTicket(), tracker)
    [packet] = handoff_packets(dispatcher)
    assert packet["reason"] == "form_failures" and packet["slots"]["ticket_number"] == "GD-7K3QX9"
    values = slot_values(events)
    assert (values["ticket_number"], values["ticket_failures"]) == (None, None)


async def test_a_question_read_as_check_ticket_that_names_no_ticket_is_answered_from_the_knowledge_base(settings, kb):
    make_ticket(sender_id="customer-7")  # even with tickets to list: the question was not about them
    tracker = snapshot(
        "ticket_lookup_done", "客服几点上班", "check_ticket", [], "customer-7", ticket_number=None, ticket_last4=None
    )
    events, dispatcher = await run(ActionCheckTicket(), tracker)
    [message] = dispatcher.messages
    assert (message["response"], message["answer"]) == ("utter_faq_answer", "人工在线客服每天 8:00-22:00 为您服务。")
    assert {"ticket_number", "ticket_last4"} <= set(slot_values(events))


async def test_a_passed_deadline_is_said_to_have_passed_and_then_that_the_manager_was_alerted(settings, monkeypatch):
    from actions import tickets as tickets_module
    from tickets.watch import check_overdue

    number = make_ticket()
    ticket, _ = stored(number)
    due = ticket.step_due_at
    monkeypatch.setattr(tickets_module, "now", lambda: due + timedelta(minutes=5))
    _, dispatcher = await check(ticket_number=number, ticket_last4="5678")
    [message] = dispatcher.messages
    assert (message["response"], message["due"]) == ("utter_ticket_status_overdue", local_time_zh(due))

    with session_scope() as session:  # the overdue watch alerts the grid manager 15 minutes past the deadline
        check_overdue(session, due + timedelta(minutes=16))
    monkeypatch.setattr(tickets_module, "now", lambda: due + timedelta(minutes=16))
    _, dispatcher = await check(ticket_number=number, ticket_last4="5678")
    assert responses(dispatcher) == ["utter_ticket_status_overdue_escalated"]


def test_the_overdue_replies_say_so_in_words():
    replies = domain()["responses"]
    assert "已超时" in replies["utter_ticket_status_overdue"][0]["text"]
    assert "网格经理" in replies["utter_ticket_status_overdue_escalated"][0]["text"]
