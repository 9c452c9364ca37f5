"""What staff and integrations send to open or change a ticket, checked field by field (no HTTP here).

Every refusal is an :class:`griddesk.errors.InvalidInput` that names the field by its Chinese label
(``tickets.labels.FIELD_LABELS``) and carries its machine name; the edge answers 422.

Who acts is never part of a body: the edge records the logged-in account or the integration token's
name. A body that still names an ``actor`` is refused (:func:`refuse_actor`), not silently dropped, so
no client believes a name it sent was recorded.
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

MAX_NOTE_CHARS = 2000
MAX_VERSION = 10**12 - 1  # a ticket version (a counter); larger numbers overflow the database integer
NEW_TICKET_FIELDS = frozenset(
    {"category", "description", "contact_phone", "contact_name", "region", "amount_yuan", "customer_tier"}
)
TRANSITION_FIELDS = frozenset({"to", "note", "version"})
COMMENT_FIELDS = frozenset({"note"})
APPROVE_FIELDS = frozenset({"note"})
ASSIGN_FIELDS = frozenset({"assignee_id", "version"})
MAX_ACCOUNT_ID = 10**12 - 1
ACTOR_FIELD = "actor"


def _label(name: str) -> str:
    return FIELD_LABELS.get(name, name)


def refuse_actor(body: Mapping[str, Any]) -> None:
    """A body may not say who acts (422 naming ``actor``), whatever its value."""
    if ACTOR_FIELD in body:
        raise fields.invalid(
            ACTOR_FIELD, _label(ACTOR_FIELD), "不能由请求指定，系统按登录的工作人员账号或集成令牌的名称记录操作人"
        )


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


def new_ticket(body: Mapping[str, Any]) -> NewTicket:
    """A new ticket from a body with the fields of ``NEW_TICKET_FIELDS`` (who opens it is the edge's to say)."""
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
    return new


def target_state(body: Mapping[str, Any]) -> TicketState:
    return TicketState(fields.choice(body, "to", _label("to"), {s.value: STATE_LABELS[s] for s in TicketState}))


def expected_version(body: Mapping[str, Any]) -> int | None:
    value = body.get("version")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_VERSION:
        raise InvalidInput(f"{_label('version')}：必须是正整数（工单的 version）。", field="version")
    return value


def required_version(body: Mapping[str, Any]) -> int:
    """The version the change was made against, required (the workspace always sends the one it shows)."""
    version = expected_version(body)
    if version is None:
        raise fields.invalid("version", _label("version"), fields.MISSING + "（刷新页面后重试）")
    return version


def assignee(body: Mapping[str, Any]) -> int | None:
    """``assignee_id``: the account to assign the ticket to, or null for nobody (the key is required)."""
    if "assignee_id" not in body:
        raise fields.invalid("assignee_id", _label("assignee_id"), fields.MISSING)
    return fields.integer(body, "assignee_id", _label("assignee_id"), low=1, high=MAX_ACCOUNT_ID, required=False)
