"""Priority, deadlines and the promise made to the customer, from the grid's SLA policy."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from grids.sla import SlaPolicy, add_working_days
from tickets.models import Category, Priority, TicketState

_BASE_PRIORITY = {
    Category.COMPLAINT: Priority.HIGH,
    Category.FAULT: Priority.HIGH,
    Category.REFUND: Priority.NORMAL,
    Category.BILLING: Priority.NORMAL,
    Category.AFTER_SALES: Priority.NORMAL,
    Category.CONSULTATION: Priority.LOW,
    Category.SUGGESTION: Priority.LOW,
}
_ORDER = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]
PRIORITY_RANK = {p: i for i, p in enumerate(reversed(_ORDER))}  # urgent 0 … low 3, for sorting


def priority_for(category: Category, tier: str) -> Priority:
    """Key accounts are served first: one level above the category's priority."""
    base = _BASE_PRIORITY[category]
    if tier == "key":
        return _ORDER[min(_ORDER.index(base) + 1, len(_ORDER) - 1)]
    return base


def needs_approval(amount: Decimal | None, policy: SlaPolicy) -> bool:
    return amount is not None and amount >= policy.approval_amount_yuan


def first_response_due(category: Category, created: datetime, policy: SlaPolicy) -> datetime:
    minutes = policy.complaint_contact_minutes if category is Category.COMPLAINT else policy.response_minutes
    return created + timedelta(minutes=minutes)


def resolve_due(category: Category, created: datetime, policy: SlaPolicy) -> datetime:
    if category is Category.COMPLAINT:
        return created + timedelta(hours=policy.complaint_resolve_hours)
    if category is Category.SUGGESTION:
        return add_working_days(created, policy.feedback_reply_working_days, policy.holidays)
    return add_working_days(created, policy.initial_solution_working_days, policy.holidays)


def step_due(
    state: TicketState, category: Category, created: datetime, entered: datetime, policy: SlaPolicy
) -> datetime | None:
    """Deadline of the step a ticket has just entered (None: no deadline, e.g. awaiting feedback)."""
    if state is TicketState.ACCEPTED:
        return first_response_due(category, created, policy)
    if state is TicketState.ANALYSING:
        return min(entered + timedelta(hours=policy.simple_plan_hours), resolve_due(category, created, policy))
    if state is TicketState.IN_PROGRESS:
        return max(resolve_due(category, created, policy), entered + timedelta(minutes=policy.response_minutes))
    return None
