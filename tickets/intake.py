"""What staff and integrations send to open or change a ticket, checked field by field (no HTTP here).

Every refusal is an :class:`griddesk.errors.InvalidInput` that names the field by its Chinese label
(``tickets.labels.FIELD_LABELS``) and carries its machine name; the edge answers 422.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from griddesk import fields
from griddesk.errors import InvalidInput
from grids.labels import TIER_LABELS
from grids.models import CustomerTier
from tickets.fields import InvalidField, normalize_phone, parse_amount, parse_description, parse_name, parse_region
from tickets.labels import CATEGORY_LABELS, FIELD_LABELS, REASONS, STATE_LABELS
from tickets.models import Category, TicketState
from tickets.service import NewTicket

T = TypeVar("T")

MAX_ACTOR_CHARS = 128
MAX_NOTE_CHARS = 2000
MAX_VERSION = 10**12 - 1  # a ticket version (a counter); larger numbers overflow the database integer
NEW_TICKET_FIELDS = frozenset(
    {"category", "description", "contact_phone", "contact_name", "region", "amount_yuan", "customer_tier", "actor"}
)
TRANSITION_FIELDS = frozenset({"to", "actor", "note", "version"})
COMMENT_FIELDS = frozenset({"actor", "note"})


def _label(name: str) -> str:
    return FIELD_LABELS.get(name, name)


def text(body: Mapping[str, Any], name: str, max_chars: int, required: bool = True) -> str:
    return fields.text(body, name, _label(name), max_chars=max_chars, required=required, multiline=name == "note")


def actor(body: Mapping[str, Any]) -> str:
    return text(body, "actor", MAX_ACTOR_CHARS)


def note(body: Mapping[str, Any], required: bool = False) -> str:
    return fields.text(body, "note", _label("note"), max_chars=MAX_NOTE_CHARS, required=required)


def _parsed(body: Mapping[str, Any], name: str, parse: Callable[[object], T]) -> T:
    """A required field through one of the shared parsers of ``tickets.fields``."""
    if body.get(name) is None:
        raise fields.invalid(name, _label(name), fields.MISSING)
    try:
        return parse(body[name])
    except InvalidField as exc:
        raise fields.invalid(name, _label(name), REASONS.get(exc.reason, exc.reason)) from None


def amount(value: object) -> Decimal | None:
    refused = fields.invalid("amount_yuan", _label("amount_yuan"), REASONS["invalid_amount"])
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise refused
    try:
        parsed = parse_amount(str(value))
    except (InvalidField, InvalidOperation):  # parse_amount("NaN") raises InvalidOperation
        raise refused from None
    if parsed <= 0:  # "0.001" rounds to 0.00
        raise refused
    return parsed


def new_ticket(body: Mapping[str, Any]) -> tuple[NewTicket, str]:
    """A new ticket and who opens it, from a body with the fields of ``NEW_TICKET_FIELDS``."""
    category = fields.choice(body, "category", _label("category"), {c.value: CATEGORY_LABELS[c] for c in Category})
    tier = fields.choice(
        body,
        "customer_tier",
        _label("customer_tier"),
        {t.value: TIER_LABELS[t] for t in CustomerTier},
        default=CustomerTier.GENERAL.value,
    )
    new = NewTicket(
        category=Category(category),
        description=_parsed(body, "description", parse_description),
        contact_phone=_parsed(body, "contact_phone", normalize_phone),
        contact_name=_parsed(body, "contact_name", parse_name),
        region=_parsed(body, "region", parse_region),
        amount_yuan=amount(body.get("amount_yuan")),
        customer_tier=tier,
    )
    return new, actor(body)


def target_state(body: Mapping[str, Any]) -> TicketState:
    return TicketState(fields.choice(body, "to", _label("to"), {s.value: STATE_LABELS[s] for s in TicketState}))


def expected_version(body: Mapping[str, Any]) -> int | None:
    value = body.get("version")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_VERSION:
        raise InvalidInput(f"{_label('version')}：必须是正整数（工单的 version）。", field="version")
    return value
