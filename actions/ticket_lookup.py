"""The lookup form: a ticket number and the last 4 digits of its contact phone.

``ticket_lookup_form`` ends at once when there is nothing to ask: 「我的工单」 from a conversation
that may already see tickets (it opened them, or verified them one by one: ``action_check_ticket``
then lists them), or the number of such a ticket (no digits needed). Any other ticket needs its own
digits, even one with the same contact phone. The check itself — and its lock-outs — is
``tickets.lookup.lookup_ticket``, called by ``action_check_ticket``.

It also ends at once when the message the NLU read as check_ticket names no ticket at all
(约好的师傅到现在还没来, 过年的时候有人工客服吗: ``ticket_extract.names_a_ticket``):
``action_check_ticket`` then answers it from the knowledge base instead of asking for a number.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import ticket_client
from actions import ticket_extract as extract
from actions.form_support import (
    FAILURES_SLOT,
    Turn,
    fresh_start,
    read_turn,
    reject_value,
    stop_or_continue,
)

FORM = "ticket_lookup_form"
LOOKUP_SLOTS = ("ticket_number", "ticket_last4")


def asks_about_no_ticket(message: dict[str, Any] | None) -> bool:
    """A check_ticket message (``tracker.latest_message``) typed without any ticket in it: no number, no
    ticket entity, no word about a ticket (a button's payload always counts as one)."""
    message = message or {}
    text = str(message.get("text") or "")
    if (message.get("intent") or {}).get("name") != "check_ticket" or not text or text.startswith("/"):
        return False
    if any(entity.get("entity") == "ticket_id" for entity in message.get("entities") or []):
        return False
    return not extract.names_a_ticket(text)


async def slots_needed(tracker: Tracker) -> list[str]:
    if read_turn(tracker, FORM).activating and asks_about_no_ticket(tracker.latest_message):
        return []  # a question for the knowledge base (action_check_ticket answers it)
    number = tracker.get_slot("ticket_number")
    visible = await asyncio.to_thread(ticket_client.visible_numbers, tracker.sender_id)
    if number is None and visible:
        return []  # 「我的工单」: list the tickets this conversation may see
    if number is not None and extract.find_ticket_number(str(number)) in visible:
        return ["ticket_number"]  # opened or verified here: no digits needed
    return list(LOOKUP_SLOTS)


def lookup_candidates(turn: Turn) -> dict[str, str]:
    if not turn.answers_form:
        return {}
    found: dict[str, str] = {}
    number = extract.find_ticket_number(turn.entity("ticket_id") or "") or (
        None if turn.text.startswith("/") else extract.find_ticket_number(turn.text)
    )
    if number:
        found["ticket_number"] = number
    elif turn.requested == "ticket_number":
        found["ticket_number"] = turn.text
    if turn.requested == "ticket_last4" and "ticket_number" not in found:
        found["ticket_last4"] = extract.last4_answer(turn.text)
    return found


class ValidateTicketLookupForm(FormValidationAction):
    def name(self) -> str:
        return "validate_ticket_lookup_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        start = fresh_start(tracker, FORM, LOOKUP_SLOTS)
        tracker.add_slots(start)
        return start + await super().run(dispatcher, tracker, domain)

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        return await slots_needed(tracker)

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        candidates = lookup_candidates(read_turn(tracker, FORM))
        return [SlotSet(slot, value) for slot, value in candidates.items()]

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> EventType | None:
        return stop_or_continue(tracker, LOOKUP_SLOTS) or await super().next_requested_slot(dispatcher, tracker, domain)

    async def validate_ticket_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"ticket_number": None}
        number = extract.find_ticket_number(str(value))
        if number is None:
            return reject_value("ticket_number", "invalid_ticket_number", dispatcher, tracker)
        return {"ticket_number": number}

    async def validate_ticket_last4(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"ticket_last4": None}
        if not re.fullmatch(r"\d{4}", str(value)):
            return reject_value("ticket_last4", "invalid_last4", dispatcher, tracker)
        return {"ticket_last4": str(value)}


def lookup_reset_events() -> list[EventType]:
    return [SlotSet(slot, None) for slot in (*LOOKUP_SLOTS, FAILURES_SLOT)]


class ActionDiscardTicketLookup(Action):
    """「算了」「不查了」 during the lookup form."""

    def name(self) -> str:
        return "action_discard_ticket_lookup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_ticket_lookup_cancelled")
        return lookup_reset_events()
