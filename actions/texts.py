"""Values the actions put into their responses: durations, local times, labels, lists, service hours.

The sentences themselves are responses in ``bot/domain.yml``; this module only formats the
variables that fill them (``1小时``, ``11月23日 14:30``, ``故障报修``), so every one is tested here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal

from grids.hours import parse_business_hours
from grids.sla import SERVICE_TZ
from tickets.labels import CATEGORY_LABELS, STATE_LABELS
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
    return "\n".join(
        f"{number} · {category_label(category)} · {state_label(state)}" for number, category, state in tickets
    )


WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def _day_runs(days: Iterable[int]) -> str:
    """[1, 2, 3, 4, 5] → 周一至周五, [6, 7] → 周六、周日, [1, 3, 4, 5] → 周一、周三至周五."""
    ordered = sorted(set(days))
    if len(ordered) == 7:
        return "每天"
    runs: list[list[int]] = []
    for day in ordered:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{WEEKDAYS_ZH[run[0] - 1]}至{WEEKDAYS_ZH[run[-1] - 1]}")
        else:
            parts.extend(WEEKDAYS_ZH[day - 1] for day in run)
    return "、".join(parts)


def _clock(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def service_hours_zh(business_hours: Mapping[str, object] | None) -> str:
    """A grid's human service hours as customers read them: ``周一至周五 9:00–18:00``, ``每天24小时``.
    ValueError for a malformed setting (grids.hours)."""
    hours = parse_business_hours(business_hours)
    days = _day_runs(hours.days)
    if hours.opens == 0 and hours.closes == 24 * 60:
        return f"{days}24小时" if days == "每天" else f"{days} 全天"
    return f"{days} {_clock(hours.opens)}–{_clock(hours.closes)}"


def opening_zh(moment: datetime) -> str:
    """When a closed service opens again, in the grid's own time zone: ``11月23日（周一）9:00``."""
    weekday = WEEKDAYS_ZH[moment.isoweekday() - 1]
    return f"{moment.month}月{moment.day}日（{weekday}）{_clock(moment.hour * 60 + moment.minute)}"


HELPFUL_ZH = "有帮助"
UNHELPFUL_ZH = "没帮助"


def feedback_buttons(faq_id: int) -> list[dict[str, str]]:
    """The 「有帮助 / 没帮助」 buttons under an FAQ answer; each payload names the FAQ it rates."""
    return [
        {"title": title, "payload": "/faq_feedback" + json.dumps({"faq_id": str(faq_id), "helpful": helpful})}
        for title, helpful in ((HELPFUL_ZH, "yes"), (UNHELPFUL_ZH, "no"))
    ]


REPORT_FAULT_ZH = "还是不行，帮我报修"
# the 报修 button: opens the ticket form as a fault, with the question asked as its description
REPORT_FAULT_PAYLOAD = "/create_ticket" + json.dumps({"ticket_category": "fault"})


def report_fault_button(title: str = REPORT_FAULT_ZH) -> dict[str, str]:
    """「还是不行，帮我报修」 under an answer to a fault (or the suggestions for one)."""
    return {"title": title, "payload": REPORT_FAULT_PAYLOAD}
