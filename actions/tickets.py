"""Ticket actions (工单): open the confirmed draft, check a ticket's state.

``action_open_ticket`` runs when the customer confirms the summary of ``ticket_form`` (a complaint is
also handed to a human at once);
``action_check_ticket`` runs when ``ticket_lookup_form`` ends. Both call the ticket service in a
thread (``actions.ticket_client``) and answer with named responses; the promise made when a
ticket is opened comes from the SLA policy of the grid that received it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions import ticket_client
from actions.faq import answer_question
from actions.form_support import gave_up
from actions.handoff_packet import verified_tier
from actions.human import escalate
from actions.texts import (
    category_label,
    duration_zh,
    local_time_zh,
    state_label,
    ticket_lines,
    yuan,
)
from actions.ticket_client import OpenedTicket, TicketView
from actions.ticket_form import PARSERS, discard_events, slots_needed
from actions.ticket_lookup import LOOKUP_SLOTS, asks_about_no_ticket, lookup_reset_events
from customers.identity import TIERS
from griddesk.clients import client_of
from grids.models import CustomerTier
from tickets.fields import InvalidField
from tickets.lookup import LookupStatus
from tickets.models import Category
from tickets.service import NewTicket, TicketError

log = logging.getLogger(__name__)
SERVICE_ERRORS = (SQLAlchemyError, TicketError, LookupError)
MAX_LISTED = 5


def draft_ticket(tracker: Tracker) -> NewTicket | None:
    """The confirmed draft as the service takes it; None when a field is missing or invalid."""
    category = tracker.get_slot("ticket_category")
    values: dict[str, Any] = {}
    try:
        for slot in slots_needed(category):
            raw = tracker.get_slot(slot)
            if raw is None:
                return None
            values[slot] = PARSERS[slot](raw)
    except InvalidField:
        return None
    tier = verified_tier(tracker)  # priority follows the verified customer's group only
    kind = Category(values["ticket_category"])
    return NewTicket(
        category=kind,
        description=values["ticket_description"],
        contact_phone=values["ticket_phone"],
        contact_name=values["ticket_name"],
        region=values["ticket_region"],
        amount_yuan=Decimal(values["ticket_amount"]) if kind is Category.REFUND else None,
        customer_tier=tier if tier in TIERS else CustomerTier.GENERAL.value,
        sender_id=tracker.sender_id,
    )


def promise(opened: OpenedTicket) -> tuple[str, dict[str, Any]]:
    """The response that confirms a new ticket, with the promise that applies to its category."""
    rules = opened.policy
    variables: dict[str, Any] = {"ticket_number": opened.number, "grid_name": opened.grid_name}
    if opened.category is Category.COMPLAINT:
        return "utter_ticket_opened_complaint", {
            **variables,
            "contact_within": duration_zh(rules.complaint_contact_minutes),
        }
    if opened.category is Category.SUGGESTION:
        return "utter_ticket_opened_suggestion", {**variables, "reply_days": rules.feedback_reply_working_days}
    return "utter_ticket_opened", {
        **variables,
        "response_within": duration_zh(rules.response_minutes),
        "solution_days": rules.initial_solution_working_days,
    }


class ActionOpenTicket(Action):
    def name(self) -> str:
        return "action_open_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        draft = draft_ticket(tracker)
        if draft is None:
            dispatcher.utter_message(response="utter_ticket_open_failed")
            return discard_events(tracker)
        try:
            opened = await asyncio.to_thread(ticket_client.open_ticket, draft)
        except SERVICE_ERRORS:
            log.exception("opening a ticket failed (sender %s)", tracker.sender_id)
            dispatcher.utter_message(response="utter_ticket_open_failed")
            return []  # the draft stays: 确认提交 again retries
        response, variables = promise(opened)
        dispatcher.utter_message(response=response, **variables)
        if opened.needs_approval and opened.amount_yuan is not None:
            dispatcher.utter_message(
                response="utter_ticket_needs_approval",
                amount=yuan(opened.amount_yuan),
                approval_amount=opened.policy.approval_amount_yuan,
            )
        if opened.category is Category.COMPLAINT:
            # a complaint is also handed to a human at once, with the new ticket's number
            handoff = await escalate(
                dispatcher, tracker, "complaint", category=Category.COMPLAINT.value, ticket_number=opened.number
            )
            return discard_events(tracker) + handoff
        return discard_events(tracker)


def now() -> datetime:
    """The clock deadlines are compared with (tests replace it)."""
    return datetime.now(UTC)


def show_ticket(dispatcher: CollectingDispatcher, ticket: TicketView) -> None:
    """The ticket's state, grid and the current step's deadline — honestly: a deadline that has passed is
    said to have passed (已超时), and whether the grid manager has been alerted (督办)."""
    variables = {
        "ticket_number": ticket.number,
        "category": category_label(ticket.category),
        "state": state_label(ticket.state),
        "grid_name": ticket.grid_name,
    }
    if ticket.step_due_at is None:
        dispatcher.utter_message(response="utter_ticket_status_no_deadline", **variables)
        return
    due = local_time_zh(ticket.step_due_at)
    if not ticket.late(now()):
        response = "utter_ticket_status"
    elif ticket.escalated:
        response = "utter_ticket_status_overdue_escalated"
    else:
        response = "utter_ticket_status_overdue"
    dispatcher.utter_message(response=response, due=due, **variables)


def list_tickets(dispatcher: CollectingDispatcher, tickets: list[TicketView]) -> None:
    buttons = [
        {"title": t.number, "payload": f'/check_ticket{{"ticket_id": "{t.number}"}}'} for t in tickets[:MAX_LISTED]
    ]
    dispatcher.utter_message(
        response="utter_my_tickets",
        buttons=buttons,
        tickets=ticket_lines((t.number, t.category, t.state) for t in tickets),
    )


class ActionCheckTicket(Action):
    """After ``ticket_lookup_form``: the ticket's state, the tickets this conversation may see, or — for
    wrong digits, an unknown number and every lock alike — one message that reveals nothing."""

    def name(self) -> str:
        return "action_check_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        number, last4 = tracker.get_slot("ticket_number"), tracker.get_slot("ticket_last4")
        try:
            if number is not None and last4 is not None:
                # the gateway's identifier of the customer's network address, set on every message it passes on
                client = client_of((tracker.latest_message or {}).get("metadata"))
                result = await asyncio.to_thread(ticket_client.lookup_ticket, tracker.sender_id, number, last4, client)
                if result.status is LookupStatus.FOUND and result.ticket is not None:
                    show_ticket(dispatcher, result.ticket)
                else:
                    if result.status is LookupStatus.LOCKED:
                        log.info("ticket lookup refused while locked (sender %s)", tracker.sender_id)
                    # locked or wrong, a ticket or none: the same answer, so nothing can be learnt from it
                    dispatcher.utter_message(response="utter_ticket_lookup_denied")
            elif gave_up(tracker, LOOKUP_SLOTS):
                # the form stopped after repeated invalid answers: a human takes over
                return await escalate(dispatcher, tracker, "form_failures") + lookup_reset_events()
            elif number is not None:
                # The form asked for no digits: this conversation opened or verified the ticket.
                ticket = await asyncio.to_thread(ticket_client.visible_ticket, tracker.sender_id, number)
                if ticket is not None:
                    show_ticket(dispatcher, ticket)
            elif asks_about_no_ticket(tracker.latest_message):
                return await answer_question(dispatcher, tracker) + lookup_reset_events()
            else:
                mine = await asyncio.to_thread(ticket_client.my_tickets, tracker.sender_id)
                if mine:
                    list_tickets(dispatcher, mine)
        except SERVICE_ERRORS:
            log.exception("ticket lookup failed (sender %s)", tracker.sender_id)
            dispatcher.utter_message(response="utter_ticket_lookup_failed")
        return lookup_reset_events()
