"""validate_ticket_lookup_form on tracker snapshots, with a migrated database for proved phones."""

from __future__ import annotations

import pytest

from actions import ticket_client
from actions.ticket_lookup import ActionDiscardTicketLookup, ValidateTicketLookupForm
from griddesk.db import session_scope
from tests.actions.trackers import responses, run, slot_values, snapshot
from tickets import service
from tickets.models import Category


def make_ticket(sender_id: str) -> str:
    with session_scope() as session:
        return service.open_ticket(
            session,
            service.NewTicket(
                category=Category.FAULT,
                description="宽带一直断网",
                contact_phone="13812345678",
                contact_name="李四",
                region="成都市锦江区",
                sender_id=sender_id,
            ),
        ).number


async def validate(name: str, text: str | None = None, intent: str | None = None, entities=None, **slots):
    return await run(ValidateTicketLookupForm(), snapshot(name, text, intent, entities, **slots))


@pytest.mark.parametrize(
    "text, entities",
    [
        ("查询工单GD-SF8FAS", [{"entity": "ticket_id", "value": "GD-"}]),  # jieba cut the number: the text is read
        ("/check_ticket", [{"entity": "ticket_id", "value": "gd-sf8fas"}]),  # a button from 「我的工单」
        ("查一下gdsf8fas", []),
        ("查一下ＧＤ－ＳＦ８ＦＡＳ", []),
    ],
)
async def test_the_number_in_the_first_message_is_taken_and_normalised(settings, text, entities):
    events, dispatcher = await validate("ticket_lookup_activation", text, "check_ticket", entities)
    assert slot_values(events) == {"ticket_number": "GD-SF8FAS"}  # Rasa then asks for the digits
    assert dispatcher.messages == []


async def test_my_tickets_without_a_proved_phone_asks_for_the_number(settings):
    events, _ = await validate("ticket_lookup_activation", "我的工单", "check_ticket", [])
    assert slot_values(events) == {}  # Rasa asks the first slot, the number


async def test_my_tickets_after_opening_one_needs_nothing_more(settings):
    make_ticket(sender_id="customer-7")
    events, _ = await validate("ticket_lookup_activation", "我的工单", "check_ticket", [])
    assert slot_values(events) == {"requested_slot": None}  # the form ends; action_check_ticket lists them


async def test_a_number_this_conversation_has_proved_needs_no_digits(settings):
    number = make_ticket(sender_id="customer-7")
    events, _ = await validate("ticket_lookup_activation", f"查一下{number}", "check_ticket", [])
    assert slot_values(events) == {"ticket_number": number, "requested_slot": None}


async def test_a_verified_ticket_spares_no_digits_for_another_ticket_of_the_same_phone(settings):
    first, second = make_ticket(sender_id="conversation-a"), make_ticket(sender_id="conversation-b")
    ticket_client.lookup_ticket("customer-7", first, "5678")
    events, _ = await validate("ticket_lookup_activation", f"查一下{first}", "check_ticket", [])
    assert slot_values(events) == {"ticket_number": first, "requested_slot": None}
    events, _ = await validate("ticket_lookup_activation", f"查一下{second}", "check_ticket", [])
    assert slot_values(events) == {"ticket_number": second}  # Rasa asks for the digits


@pytest.mark.parametrize(
    "text, digits", [("0001", "0001"), ("尾号5678", "5678"), ("13812345678", "5678"), ("後四位是8899", "8899")]
)
async def test_digit_answers(settings, text, digits):
    events, dispatcher = await validate("ticket_lookup_answer", text, "inform")
    assert slot_values(events) == {"ticket_last4": digits}
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    "requested, text, reason",
    [
        ("ticket_last4", "12", "invalid_last4"),
        ("ticket_last4", "不记得", "invalid_last4"),
        ("ticket_number", "就是上周那个", "invalid_ticket_number"),
    ],
)
async def test_invalid_answers_get_their_own_reprompt(settings, requested, text, reason):
    slots = {"requested_slot": requested, "ticket_number": None} if requested == "ticket_number" else {}
    events, dispatcher = await validate("ticket_lookup_answer", text, "inform", **slots)
    assert responses(dispatcher) == [f"utter_invalid_{reason}"]
    assert slot_values(events)[requested] is None


async def test_the_third_invalid_answer_apologises_and_ends_the_lookup(settings):
    events, dispatcher = await validate("ticket_lookup_answer", "12", "inform", ticket_failures={"ticket_last4": 2})
    assert responses(dispatcher) == ["utter_form_too_many_failures"]
    assert slot_values(events)["requested_slot"] is None


async def test_a_new_number_instead_of_digits_replaces_the_number(settings):
    events, _ = await validate("ticket_lookup_answer", "不对，是GD-7K3QX9", "check_ticket")
    assert slot_values(events) == {"ticket_number": "GD-7K3QX9"}


@pytest.mark.parametrize("text, intent", [("算了，不查了", "cancel"), ("转人工", "request_human")])
async def test_cancel_and_human_requests_are_left_to_the_rules(settings, text, intent):
    events, dispatcher = await validate("ticket_lookup_answer", text, intent)
    assert slot_values(events) == {} and dispatcher.messages == []


async def test_cancelling_a_lookup_forgets_the_number():
    events, dispatcher = await run(ActionDiscardTicketLookup(), snapshot("ticket_lookup_answer", "算了", "cancel"))
    assert responses(dispatcher) == ["utter_ticket_lookup_cancelled"]
    assert slot_values(events) == {"ticket_number": None, "ticket_last4": None, "ticket_failures": None}


@pytest.mark.parametrize("text", ["约好的师傅到现在还没来", "过年的时候有人工客服吗", "把good morning翻译成中文"])
async def test_a_message_read_as_check_ticket_that_names_no_ticket_asks_for_nothing(settings, text):
    events, dispatcher = await validate("ticket_lookup_activation", text, "check_ticket", [])
    assert slot_values(events) == {"requested_slot": None}  # the form ends; action_check_ticket answers it
    assert dispatcher.messages == []


@pytest.mark.parametrize("text", ["我的工单", "我报修的宽带什么时候能修好", "师傅什么时候上门", "查一下gdsf8fas"])
async def test_a_message_about_a_ticket_still_asks_for_the_number(settings, text):
    events, _ = await validate("ticket_lookup_activation", text, "check_ticket", [])
    assert "requested_slot" not in slot_values(events)
