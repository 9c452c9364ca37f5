"""The ticket form (工单): collect the fields, confirm them, change one, or drop the draft.

``ticket_form`` asks for category, description, (refunds: amount), phone, name and region. Its
slots use custom mappings: ``validate_ticket_form`` finds the values in the customer's messages
(``actions.ticket_extract``) and checks them with ``tickets.fields``, so values given before they
are asked for (我要投诉，宽带三天没修好 · a phone number anywhere) are not asked again.
Opening the ticket itself is ``action_open_ticket`` (actions/tickets.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions import ticket_client
from actions import ticket_extract as extract
from actions.faq import QUESTION_SLOT
from actions.form_support import (
    FAILURES_SLOT,
    Turn,
    fresh_start,
    gave_up,
    read_turn,
    reject_value,
    stop_or_continue,
)
from actions.handoff_packet import verified_customer
from actions.human import escalate
from actions.texts import category_label, yuan
from tickets.fields import (
    InvalidField,
    normalize_phone,
    parse_amount,
    parse_category,
    parse_description,
    parse_name,
    parse_region,
)
from tickets.models import Category

log = logging.getLogger(__name__)
FORM = "ticket_form"
TICKET_SLOTS = (
    "ticket_category",
    "ticket_description",
    "ticket_amount",
    "ticket_phone",
    "ticket_name",
    "ticket_region",
)
CONFIRMING_SLOT = "ticket_confirming"
PARSERS: dict[str, Callable[[object], object]] = {
    "ticket_category": lambda text: parse_category(text).value,
    "ticket_description": parse_description,
    "ticket_amount": lambda text: str(parse_amount(text)),
    "ticket_phone": normalize_phone,
    "ticket_name": parse_name,
    "ticket_region": parse_region,
}
ANSWERS: dict[str, Callable[[str], str]] = {
    "ticket_category": str,
    "ticket_description": str,
    "ticket_amount": extract.amount_answer,
    "ticket_phone": extract.phone_answer,
    "ticket_name": extract.name_answer,
    "ticket_region": extract.region_answer,
}


def category_of(value: object) -> Category | None:
    try:
        return parse_category(value) if value is not None else None
    except InvalidField:
        return None


def slots_needed(category: object) -> list[str]:
    """The slots a ticket needs, in the order they are asked. The amount only for refunds, and
    while the category is unknown (it may turn out to be one; the category is asked first)."""
    needed = ["ticket_category", "ticket_description"]
    if category_of(category) in (None, Category.REFUND):
        needed.append("ticket_amount")
    return [*needed, "ticket_phone", "ticket_name", "ticket_region"]


def volunteered(turn: Turn, slots: dict[str, Any]) -> dict[str, str]:
    """Values the customer gave without being asked: in the message that started the form the
    category and the description, and in any message a phone number, an amount, 「我叫…」.
    The 「还是不行，帮我报修」 button under an answer (``/create_ticket{"ticket_category": "fault"}``)
    names the category, and the question that answer was for (slot ``faq_question``) is the
    description."""
    found: dict[str, str] = {}
    if turn.activating:
        from_button = category_of(turn.entity("ticket_category")) if turn.text.startswith("/") else None
        asked = str(slots.get(QUESTION_SLOT) or "") if from_button is not None else ""
        category = "complaint" if turn.intent == "complain" else extract.find_category(turn.text)
        category = from_button.value if from_button is not None else category
        if category:
            found["ticket_category"] = category
        description = extract.description_in_request(asked or turn.text)
        if description:
            found["ticket_description"] = description
    phone = extract.find_phone(turn.text)
    if phone:
        found["ticket_phone"] = phone
    amount = extract.find_amount(turn.text)
    if amount:
        found["ticket_amount"] = amount
    name = extract.find_name(turn.text)
    if name and slots.get("ticket_name") is None:
        found["ticket_name"] = name
    return found


def ticket_candidates(turn: Turn, slots: dict[str, Any]) -> dict[str, str]:
    """Slot candidates in this message: the answer to the slot asked for, and volunteered values."""
    if not turn.answers_form:
        return {}
    found = volunteered(turn, slots)
    if turn.requested in ANSWERS and not turn.text.startswith("/"):  # a button's payload answers nothing
        found[turn.requested] = ANSWERS[turn.requested](turn.text)
    return found


KNOWN_SLOTS = {"ticket_phone": "phone", "ticket_name": "name", "ticket_region": "region"}


async def known_values(tracker: Tracker) -> dict[str, str]:
    """What the form need not ask: the verified customer's phone, name and region (what the site signed),
    else those of the latest ticket this conversation or this verified customer opened. Only values the
    form would accept; the summary shows them and 「改一下电话」 changes one before confirming."""
    customer = verified_customer(tracker)
    customer_id = customer.get("id")
    try:
        earlier = await asyncio.to_thread(
            ticket_client.known_contact, tracker.sender_id, customer_id if isinstance(customer_id, int) else None
        )
    except SQLAlchemyError:
        log.exception("reading earlier tickets of %s failed; the form asks", tracker.sender_id)
        earlier = {}
    known: dict[str, str] = {}
    for slot, attribute in KNOWN_SLOTS.items():
        for value in (customer.get(attribute), earlier.get(slot)):
            try:
                if isinstance(value, str) and value.strip():
                    known[slot] = str(PARSERS[slot](value))
                    break
            except InvalidField:
                continue
    return known


class ValidateTicketForm(FormValidationAction):
    def name(self) -> str:
        return "validate_ticket_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        start = fresh_start(tracker, FORM, TICKET_SLOTS)
        if start and tracker.get_slot(CONFIRMING_SLOT):
            start.append(SlotSet(CONFIRMING_SLOT, False))
        tracker.add_slots(start)  # last in line: stale values Rasa passes as pre-filled are dropped too
        return start + await super().run(dispatcher, tracker, domain)

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        return slots_needed(tracker.get_slot("ticket_category"))

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        turn = read_turn(tracker, FORM)
        candidates = ticket_candidates(turn, tracker.slots)
        if turn.activating and turn.answers_form:
            for slot, value in (await known_values(tracker)).items():
                candidates.setdefault(slot, value)
        return [SlotSet(slot, value) for slot, value in candidates.items()]

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> EventType | None:
        return stop_or_continue(tracker, TICKET_SLOTS) or await super().next_requested_slot(dispatcher, tracker, domain)

    def _validate(self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        if value is None:
            return {slot: None}
        try:
            return {slot: PARSERS[slot](value)}
        except InvalidField as error:
            return reject_value(slot, error.reason, dispatcher, tracker)

    async def validate_ticket_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._validate("ticket_category", value, dispatcher, tracker)

    async def validate_ticket_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._validate("ticket_description", value, dispatcher, tracker)

    async def validate_ticket_amount(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._validate("ticket_amount", value, dispatcher, tracker)

    async def validate_ticket_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._validate("ticket_phone", value, dispatcher, tracker)

    async def validate_ticket_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._validate("ticket_name", value, dispatcher, tracker)

    async def validate_ticket_region(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._validate("ticket_region", value, dispatcher, tracker)


class ActionTicketSummary(Action):
    """After the form: show what will be submitted, with 确认提交 / 修改 buttons — or, when the form
    gave up after repeated failed answers, hand over to a human (reason ``form_failures``)."""

    def name(self) -> str:
        return "action_ticket_summary"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if gave_up(tracker, TICKET_SLOTS):
            # the form stopped after repeated failed answers: a human takes over, with the draft so far
            events = await escalate(dispatcher, tracker, "form_failures", category=tracker.get_slot("ticket_category"))
            return [*events, SlotSet(FAILURES_SLOT, None)]
        values = {slot: tracker.get_slot(slot) for slot in TICKET_SLOTS}
        needed = slots_needed(values["ticket_category"])
        if any(values[slot] is None for slot in needed):
            return []  # nothing to confirm (the form did not finish)
        variables = {
            "category": category_label(values["ticket_category"]),
            "description": values["ticket_description"],
            "phone": values["ticket_phone"],
            "name": values["ticket_name"],
            "region": values["ticket_region"],
        }
        if "ticket_amount" in needed:
            dispatcher.utter_message(
                response="utter_ticket_summary_with_amount", amount=yuan(values["ticket_amount"]), **variables
            )
        else:
            dispatcher.utter_message(response="utter_ticket_summary", **variables)
        return [SlotSet(CONFIRMING_SLOT, True)]


def last_filled_slot(tracker: Tracker) -> str | None:
    """The ticket slot set most recently (what 「改一下」 without a field most likely means)."""
    for event in reversed(tracker.events):
        if event.get("event") == "slot" and event.get("name") in TICKET_SLOTS and event.get("value") is not None:
            return str(event["name"])
    return None


class ActionChangeTicketField(Action):
    """「改一下电话」/「电话写错了」: clear that slot so the form asks it again (or take the new value
    when the message already has it: 电话写错了，是139…)."""

    def name(self) -> str:
        return "action_change_ticket_field"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        turn = read_turn(tracker, FORM)
        slot = extract.field_slot(turn.entity("ticket_field")) or extract.field_slot(turn.text)
        if slot is None and tracker.active_loop_name == FORM:
            slot = last_filled_slot(tracker)
        events: list[EventType] = []
        if tracker.get_slot(CONFIRMING_SLOT):
            events.append(SlotSet(CONFIRMING_SLOT, False))
        if slot is not None:
            new_value = {"ticket_phone": extract.find_phone, "ticket_amount": extract.find_amount}.get(
                slot, lambda _text: None
            )(turn.text)
            events.append(SlotSet(slot, PARSERS[slot](new_value) if new_value else None))
        return events


def discard_events(tracker: Tracker) -> list[EventType]:
    events: list[EventType] = [SlotSet(slot, None) for slot in (*TICKET_SLOTS, FAILURES_SLOT)]
    if tracker.get_slot(CONFIRMING_SLOT):
        events.append(SlotSet(CONFIRMING_SLOT, False))
    return events


class ActionDiscardTicketDraft(Action):
    """「算了」「不用了」「取消」 during the form or at the confirmation: nothing is created."""

    def name(self) -> str:
        return "action_discard_ticket_draft"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_ticket_discarded")
        return discard_events(tracker)
