"""The handoff packet (docs/handoff.md "The action server asks for a human") and the grid it goes to.

Everything an agent needs so they never re-ask: why the bot escalated, what it understood (the
latest intent and its confidence), the FAQ candidates it considered with their scores, the slots
already filled, a draft ticket, the customer's profile and their last question. The gateway
validates the packet again and drops anything else; the limits below keep it small on this side.

Who the customer is (profile, routing by region and tier, ticket priority) comes only from the customer
the gateway verified: ``metadata.griddesk_customer`` of the newest message (:func:`verified_customer`),
which the gateway always writes itself. What a client page claims never gets here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from rasa_sdk import Tracker
from sqlalchemy.orm import Session

from customers.identity import BOT_METADATA_KEY
from grids.models import Grid
from grids.service import route_request
from handoff import packet
from handoff.models import HandoffReason
from tickets.models import Category

REASONS = frozenset(reason.value for reason in HandoffReason)

# sizes the packet never exceeds: the contract's own limits (handoff.packet checks them again)
MAX_CANDIDATES = 3  # the bot offers three candidates (the contract allows up to packet.MAX_FAQ_CANDIDATES)
MAX_QUESTION = packet.MAX_QUESTION_CHARS
MAX_SUMMARY = packet.MAX_SUMMARY_CHARS
MAX_VALUE = packet.MAX_SLOT_VALUE_CHARS  # one slot value or draft-ticket field, as text
MAX_SLOTS = packet.MAX_SLOTS
MAX_PROFILE_FIELD = packet.MAX_PROFILE_CHARS
MAX_NAME = min(packet.MAX_GRID_CHARS, packet.MAX_KEY_CHARS, packet.MAX_INTENT_CHARS)  # intent, slot, grid names
MAX_TICKET_NUMBER = packet.MAX_TICKET_NUMBER_CHARS

CANDIDATES_SLOT = "faq_candidates"
FAQ_CATEGORY_SLOT = "faq_category"
MISSES_SLOT = "faq_misses"
# bookkeeping the agent has no use for, or must not see (the digits typed to unlock a ticket)
INTERNAL_SLOTS = frozenset(
    {
        "requested_slot",
        "ticket_failures",
        "ticket_confirming",
        "ticket_last4",
        CANDIDATES_SLOT,
        FAQ_CATEGORY_SLOT,
        MISSES_SLOT,
        "session_started_metadata",
        "faq_question",
        "faq_answered",
        "faq_rejected",
    }
)
# ticket form slot → field of the draft ticket (the names of the console's ticket form)
DRAFT_FIELDS = {
    "ticket_category": "category",
    "ticket_description": "description",
    "ticket_amount": "amount_yuan",
    "ticket_phone": "contact_phone",
    "ticket_name": "contact_name",
    "ticket_region": "region",
}
# messages that say nothing new about the customer's problem (answers to a form's questions are in
# the draft ticket): skipped when looking for the summary
NOT_A_QUESTION = frozenset(
    {
        "request_human",
        "greet",
        "goodbye",
        "thank",
        "affirm",
        "deny",
        "cancel",
        "chitchat",
        "none_of_these",
        "choose_faq",
        "change_ticket_field",
        "inform",
        "faq_feedback",
    }
)
PROFILE_FIELDS = ("region", "tier", "name")

# knowledge-base categories (knowledge_base/seed/faqs.jsonl) → service categories the grids use
# (the ticket categories, tickets.models.Category). Categories not listed route by region and tier.
FAQ_CATEGORIES: dict[str, str] = {
    "账务与缴费": Category.BILLING,
    "发票": Category.BILLING,
    "售后与退款": Category.REFUND,
    "故障报修": Category.FAULT,
    "预约上门": Category.AFTER_SALES,
    "投诉与建议": Category.COMPLAINT,
}


def _score(value: object) -> float:
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        raise ValueError(f"not a finite score: {value!r}")
    return round(number, 4)


def _text(value: object, limit: int) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text.strip()[:limit]


def service_category(value: object) -> str | None:
    """A ticket or FAQ category as the grids know it: ``fault``, ``billing``…, or None."""
    if not isinstance(value, str) or not value:
        return None
    if value in {c.value for c in Category}:
        return value
    mapped = FAQ_CATEGORIES.get(value)
    return str(mapped) if mapped is not None else None


def request_category(tracker: Tracker) -> str | None:
    """What the customer needs help with: the draft ticket's category, else the last FAQ question's."""
    return service_category(tracker.get_slot("ticket_category")) or service_category(
        tracker.get_slot(FAQ_CATEGORY_SLOT)
    )


def _newest_metadata(tracker: Tracker) -> object:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if isinstance(event.get("metadata"), Mapping):
                return event["metadata"]
            break
    return (tracker.latest_message or {}).get("metadata")


def verified_customer(tracker: Tracker) -> Mapping[str, Any]:
    """The customer the gateway verified for the newest message ({} = anonymous): ``{"id", "external_id",
    "name"?, "phone"?, "region"?, "tier"?}``. Only the newest message counts: the gateway sends it with
    every message, so an older one never speaks for the customer now."""
    metadata = _newest_metadata(tracker)
    customer = metadata.get(BOT_METADATA_KEY) if isinstance(metadata, Mapping) else None
    return customer if isinstance(customer, Mapping) else {}


def _attribute(customer: Mapping[str, Any], name: str) -> str | None:
    value = customer.get(name)
    if not isinstance(value, str):
        return None
    return value.strip()[:MAX_PROFILE_FIELD] or None


def verified_tier(tracker: Tracker) -> str | None:
    """The verified customer's group (``general`` · ``key`` · ``prospect``), None when anonymous."""
    return _attribute(verified_customer(tracker), "tier")


def profile(tracker: Tracker) -> dict[str, str]:
    """{region, tier, name} of the verified customer ({} when anonymous)."""
    customer = verified_customer(tracker)
    return {field: value for field in PROFILE_FIELDS if (value := _attribute(customer, field))}


def route_for(session: Session, tracker: Tracker, category: str | None = None) -> Grid:
    """The grid that serves this customer: (region, tier, category) → the most specific grid.

    Region and tier are the verified customer's; an anonymous customer's request is routed by the region
    of the ticket being filled in (where the service is needed), never by a tier."""
    customer = profile(tracker)
    region = customer.get("region") or tracker.get_slot("ticket_region")
    return route_request(
        session,
        region if isinstance(region, str) and region.strip() else None,
        customer.get("tier"),
        service_category(category) or request_category(tracker),
    )


def candidates_of(hits: Sequence[Any]) -> list[dict[str, Any]]:
    """The FAQ slot value for a search's hits (``knowledge_base.index.Hit``): the top 3 with scores."""
    return [
        {
            "faq_id": hit.faq.id,
            "question": hit.faq.question[:MAX_QUESTION],
            "score": round(float(hit.score), 4),
            "category": hit.faq.category,
        }
        for hit in hits[:MAX_CANDIDATES]
    ]


def _candidates(raw: object) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        return []
    clean: list[dict[str, Any]] = []
    for item in raw[:MAX_CANDIDATES]:
        if not isinstance(item, Mapping):
            continue
        try:
            clean.append(
                {
                    "faq_id": int(item["faq_id"]),
                    "question": _text(item["question"], MAX_QUESTION),
                    "score": _score(item["score"]),
                }
            )
        except (KeyError, TypeError, ValueError):
            continue
    return clean


def _intent(tracker: Tracker) -> dict[str, Any] | None:
    intent = (tracker.latest_message or {}).get("intent") or {}
    name = intent.get("name")
    if not isinstance(name, str) or not name:
        return None
    try:
        confidence = min(1.0, max(0.0, _score(intent.get("confidence") or 0.0)))
    except (TypeError, ValueError):
        confidence = 0.0
    return {"name": name[:MAX_NAME], "confidence": confidence}


def filled_slots(tracker: Tracker) -> dict[str, Any]:
    slots: dict[str, Any] = {}
    for name, value in sorted(tracker.slots.items()):
        if name in INTERNAL_SLOTS or value is None or value == "" or value == [] or value == {}:
            continue
        if len(slots) == MAX_SLOTS:
            break
        if isinstance(value, float) and not math.isfinite(value):
            continue
        slots[name[:MAX_NAME]] = value if isinstance(value, bool | int | float) else _text(value, MAX_VALUE)
    return slots


def draft_ticket(tracker: Tracker) -> dict[str, str] | None:
    """The ticket form's answers so far (a form in progress, stopped or awaiting confirmation)."""
    draft = {
        field: _text(tracker.get_slot(slot), MAX_VALUE)
        for slot, field in DRAFT_FIELDS.items()
        if tracker.get_slot(slot) not in (None, "")
    }
    return draft or None


def summary(tracker: Tracker) -> str:
    """The customer's last message about their problem (not 转人工, not a button), at most 500 characters."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        text = (event.get("text") or "").strip()
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if text and not text.startswith("/") and intent not in NOT_A_QUESTION:
            return text[:MAX_SUMMARY]
    return ""


def build_packet(
    tracker: Tracker,
    reason: str,
    *,
    grid_code: str,
    candidates: object = None,
    ticket_number: str | None = None,
    skill: str | None = None,
) -> dict[str, Any]:
    """The packet for ``{"griddesk": {"handoff": …}}``. ``candidates`` overrides the ``faq_candidates``
    slot (the FAQ action escalates in the same turn it searched); with ``ticket_number`` the ticket
    exists, so no draft is sent."""
    if reason not in REASONS:
        raise ValueError(f"unknown handoff reason {reason!r}")
    packet: dict[str, Any] = {"reason": reason, "grid": grid_code[:MAX_NAME]}
    optional: dict[str, Any] = {
        "skill": (skill or request_category(tracker) or "")[:MAX_NAME],
        "intent": _intent(tracker),
        "faq_candidates": _candidates(tracker.get_slot(CANDIDATES_SLOT) if candidates is None else candidates),
        "slots": filled_slots(tracker),
        "draft_ticket": None if ticket_number else draft_ticket(tracker),
        "ticket_number": (ticket_number or "")[:MAX_TICKET_NUMBER],
        "profile": profile(tracker),
        "summary": summary(tracker),
    }
    packet.update({key: value for key, value in optional.items() if value})
    return packet
