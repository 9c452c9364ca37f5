"""Values the ticket actions put into their responses: durations, local times, labels, lists.

The sentences themselves are responses in ``bot/domain.yml``; this module only formats the
variables that fill them (``1小时``, ``11月23日 14:30``, ``故障报修``), so every one is tested here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from grids.sla import SERVICE_TZ
from tickets.fields import CATEGORY_LABELS
from tickets.labels import STATE_LABELS
from tickets.models import Category, TicketState


def duration_zh(minutes: int) -> str:
    """30 → 30分钟, 60 → 1小时, 90 → 1小时30分钟, 1440 → 24小时."""
    minutes = max(0, int(minutes))
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours}小时{rest}分钟"
    if hours:
        return f"{hours}小时"
    return f"{rest}分钟"


def minutes_until(moment: datetime, now: datetime) -> int:
    """Whole minutes from ``now`` until ``moment``, rounded up (a lock 14 min 10 s away → 15)."""
    return max(1, math.ceil((moment - now).total_seconds() / 60))


def local_time_zh(moment: datetime) -> str:
    """A deadline as customers read it, in the service's time zone: ``11月23日 14:30``."""
    local = moment.astimezone(SERVICE_TZ)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def category_label(category: str) -> str:
    try:
        return CATEGORY_LABELS[Category(category)]
    except ValueError:
        return category


def state_label(state: str) -> str:
    try:
        return STATE_LABELS[TicketState(state)]
    except ValueError:
        return state


def yuan(amount: Decimal | str) -> str:
    """5000.00 → 5000, 199.50 → 199.5: an amount as people write it."""
    value = Decimal(str(amount))
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def ticket_lines(tickets: Iterable[tuple[str, str, str]]) -> str:
    """One line per ticket, ``GD-7K3QX9 · 故障报修 · 处理中``, for a list in one message."""
    return "\n".join(f"{number} · {category_label(category)} · {state_label(state)}"
                     for number, category, state in tickets)
