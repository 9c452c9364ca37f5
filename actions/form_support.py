"""What the two ticket forms share: reading the turn a form runs in, and counting failures.

Plain functions (not a base class: rasa-sdk's executor instantiates every ``Action`` subclass).
Rasa calls a form's validation action on a temporary tracker: the conversation so far, then an
``active_loop`` event when the form is just being activated, then the form's own action event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT

from actions.customer_text import typed_text
from actions.ticket_extract import clean
from griddesk.text import to_simplified

FAILURES_SLOT = "ticket_failures"
MAX_FAILURES = 3
# Intents that are not an answer to the form's question: the form lets the rules handle them.
ESCAPE_INTENTS = frozenset({"cancel", "change_ticket_field", "request_human"})
# The classifier may call a short answer cancel (断网了); a cancel must also say so in words…
CANCEL_WORDS = re.compile(r"算了|不用|不要|不需要|不必|不想|不弄|不办|不填|不提交|不查|取消|撤销|停|退出|别")
# …and a long free-text answer is more likely a description (取消了宽带套餐但还在扣费…).
LONGEST_CANCEL = 12


@dataclass(frozen=True)
class Turn:
    """The message a form's validation action is looking at, and how it relates to the form."""

    text: str
    intent: str | None
    entities: list[dict[str, Any]]
    requested: str | None  # the slot the form asked for before this message (None: activation)
    activating: bool  # the form is being activated by this message
    fresh: bool  # no other action (e.g. action_change_ticket_field) has handled this message yet

    @property
    def answers_form(self) -> bool:
        """Whether the message is meant for the form: fresh, and not a request to cancel, change
        a field or talk to a human (those reject the form so the rules can handle them)."""
        if not self.fresh:
            return False
        if self.intent != "cancel":
            return self.intent not in ESCAPE_INTENTS
        if not CANCEL_WORDS.search(to_simplified(self.text)):
            return True
        return self.requested == "ticket_description" and len(self.text) > LONGEST_CANCEL

    def entity(self, name: str) -> str | None:
        return next((str(e["value"]) for e in self.entities if e.get("entity") == name and e.get("value")), None)


def _events_after_latest_user_message(tracker: Tracker) -> list[dict[str, Any]]:
    for index in range(len(tracker.events) - 1, -1, -1):
        if tracker.events[index].get("event") == "user":
            return tracker.events[index + 1 :]
    return list(tracker.events)


def read_turn(tracker: Tracker, form: str) -> Turn:
    after = _events_after_latest_user_message(tracker)
    activating = any(e.get("event") == "active_loop" and e.get("name") == form for e in after)
    handled_by = [e.get("name") or "" for e in after if e.get("event") in ("action", "action_execution_rejected")]
    fresh = all(
        name in (form, "action_listen", "action_extract_slots") or name.startswith("utter_") for name in handled_by
    )
    latest = tracker.latest_message or {}
    return Turn(
        text=clean(typed_text(latest)),
        intent=(latest.get("intent") or {}).get("name"),
        entities=list(latest.get("entities") or []),
        requested=None if activating else tracker.get_slot(REQUESTED_SLOT),
        activating=activating,
        fresh=fresh,
    )


def fresh_start(tracker: Tracker, form: str, slots: tuple[str, ...]) -> list[EventType]:
    """When a customer starts a form anew, forget what an earlier, unfinished run left behind."""
    turn = read_turn(tracker, form)
    if not (turn.activating and turn.fresh):
        return []
    return [SlotSet(slot, None) for slot in (*slots, FAILURES_SLOT) if tracker.get_slot(slot) is not None]


def failures(tracker: Tracker) -> dict[str, int]:
    value = tracker.get_slot(FAILURES_SLOT)
    return dict(value) if isinstance(value, dict) else {}


def gave_up(tracker: Tracker, slots: tuple[str, ...]) -> bool:
    counts = failures(tracker)
    return any(counts.get(slot, 0) >= MAX_FAILURES for slot in slots)


def reject_value(slot: str, reason: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
    """An answer the form cannot use: say what is wrong with it (``utter_invalid_<reason>``) and ask
    again, or after the third failure for this slot apologise (the form then stops, and the action
    after it hands the conversation to a human: ``actions.human.escalate``, reason ``form_failures``)."""
    counts = failures(tracker)
    counts[slot] = counts.get(slot, 0) + 1
    if counts[slot] >= MAX_FAILURES:
        dispatcher.utter_message(response="utter_form_too_many_failures")
    else:
        dispatcher.utter_message(response=f"utter_invalid_{reason}")
    return {slot: None, FAILURES_SLOT: counts}


def stop_or_continue(tracker: Tracker, slots: tuple[str, ...]) -> EventType | None:
    """``requested_slot = None`` (the form ends) once the customer has failed one slot too often."""
    return SlotSet(REQUESTED_SLOT, None) if gave_up(tracker, slots) else None
