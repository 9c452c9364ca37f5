"""Escalation to a human (docs/handoff.md "The action server asks for a human").

``escalate`` is what every trigger calls — the customer's request (``action_request_human``),
repeated FAQ misses (``action_answer_faq``), a complaint ticket (``action_open_ticket``), a form
given up after repeated failures (``action_ticket_summary``, ``action_check_ticket``). It routes the
customer to a grid and, when the grid's human service is open, says who will help and sends the
handoff packet as a custom message the gateway takes out of the reply; outside the grid's business
hours it sends no packet and offers a ticket (留言) instead. A plain function, not a base class:
rasa-sdk's executor instantiates every ``Action`` subclass.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.handoff_packet import (
    MISSES_SLOT,
    build_packet,
    profile,
    route_for,
    service_category,
)
from actions.texts import opening_zh, service_hours_zh
from griddesk.db import session_scope
from grids.handoff_policy import HandoffPolicy
from grids.hours import is_open, next_opening
from grids.service import route_request

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RoutedGrid:
    """What the actions need of the grid a customer is routed to (read in a short session)."""

    code: str
    name: str
    business_hours: dict[str, Any] = field(default_factory=dict)
    miss_limit: int = HandoffPolicy().miss_limit


def now() -> datetime:
    """The clock business hours are checked against (tests replace it)."""
    return datetime.now(UTC)


def _policy(settings: dict[str, object] | None, code: str) -> HandoffPolicy:
    try:
        return HandoffPolicy.from_settings(settings)
    except ValueError:
        log.exception("grid %s: invalid handoff settings, using the defaults", code)
        return HandoffPolicy()


def routed_grid(tracker: Tracker, category: str | None = None) -> RoutedGrid:
    """Blocking (SQL): the grid serving this customer and request."""
    with session_scope() as session:
        grid = route_for(session, tracker, category)
        return RoutedGrid(
            grid.code, grid.name, dict(grid.business_hours or {}), _policy(grid.handoff, grid.code).miss_limit
        )


async def find_grid(tracker: Tracker, category: str | None = None) -> RoutedGrid | None:
    """The routed grid, or None when routing fails (no grid serves the request, database down)."""
    try:
        return await asyncio.to_thread(routed_grid, tracker, category)
    except (SQLAlchemyError, LookupError):
        log.exception("routing to a grid failed (sender %s)", tracker.sender_id)
        return None


def _customer_grid_code(tracker: Tracker) -> str:
    customer = profile(tracker)
    with session_scope() as session:
        return route_request(session, customer.get("region"), customer.get("tier"), None).code


async def customer_grid(tracker: Tracker) -> str | None:
    """The grid of the customer themself — by the verified region and tier only, not by what they ask
    about (a billing question does not make them a billing-grid customer); the catch-all grid when
    anonymous. None when routing fails."""
    try:
        return await asyncio.to_thread(_customer_grid_code, tracker)
    except (SQLAlchemyError, LookupError):
        log.exception("finding the customer's grid failed (sender %s)", tracker.sender_id)
        return None


def _open_now(grid: RoutedGrid) -> bool:
    try:
        return is_open(grid.business_hours, now())
    except ValueError:
        # A calendar an admin got wrong must not hide the humans: the gateway still queues the customer.
        log.exception("grid %s: invalid business hours, treated as open", grid.code)
        return True


def _closed(dispatcher: CollectingDispatcher, grid: RoutedGrid, ticket_number: str | None) -> None:
    hours = service_hours_zh(grid.business_hours)
    if ticket_number:  # the ticket exists already (a complaint): nothing more to leave
        dispatcher.utter_message(
            response="utter_human_closed_ticket_opened", grid_name=grid.name, hours=hours, ticket_number=ticket_number
        )
        return
    opening = next_opening(grid.business_hours, now())
    if opening is None:
        dispatcher.utter_message(response="utter_human_closed_no_opening", grid_name=grid.name, hours=hours)
    else:
        dispatcher.utter_message(
            response="utter_human_closed", grid_name=grid.name, hours=hours, opens=opening_zh(opening)
        )


def reset_events(tracker: Tracker, *, transferred: bool) -> list[EventType]:
    """After an escalation: the miss count starts over, a form still running stops, and — once a
    human takes over — a pending ticket confirmation no longer waits for 「确认」."""
    events: list[EventType] = []
    if tracker.get_slot(MISSES_SLOT):
        events.append(SlotSet(MISSES_SLOT, 0))
    if transferred and tracker.active_loop_name:
        events += [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
    if transferred and tracker.get_slot("ticket_confirming"):
        events.append(SlotSet("ticket_confirming", False))
    return events


async def escalate(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: str,
    *,
    category: str | None = None,
    ticket_number: str | None = None,
    grid: RoutedGrid | None = None,
) -> list[EventType]:
    """Hand the conversation to the routed grid's humans, or — outside its hours — offer a ticket.

    ``reason`` is a packet reason (``customer_request``, ``repeated_misses``, ``complaint``,
    ``form_failures``…); ``category`` a ticket or FAQ category that steers routing; ``grid`` a grid
    the caller has already routed to. Returns the events to add to the caller's own.
    """
    grid = grid or await find_grid(tracker, category)
    if grid is None:
        dispatcher.utter_message(response="utter_human_unavailable")
        return reset_events(tracker, transferred=False)
    if not _open_now(grid):
        _closed(dispatcher, grid, ticket_number)
        return reset_events(tracker, transferred=False)
    packet = build_packet(
        tracker, reason, grid_code=grid.code, ticket_number=ticket_number, skill=service_category(category)
    )
    dispatcher.utter_message(response="utter_human_transferring", grid_name=grid.name)
    dispatcher.utter_message(json_message={"griddesk": {"handoff": packet}})
    return reset_events(tracker, transferred=True)


class ActionRequestHuman(Action):
    """The customer asked for a human (intent ``request_human``; the gateway maps 转人工/人工客服/找人工)."""

    def name(self) -> str:
        return "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return await escalate(dispatcher, tracker, "customer_request")
