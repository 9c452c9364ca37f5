"""Service-level policy and the working-day calendar.

Defaults are the figures of DOMAIN.md; every grid may override any of them in its ``sla`` settings.
Times are computed in the service's time zone (Asia/Shanghai); working days skip weekends and the
configured holidays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

SERVICE_TZ = ZoneInfo("Asia/Shanghai")


def service_day(moment: datetime) -> date:
    """The calendar day ``moment`` (an aware time) falls on in the service's time zone."""
    return moment.astimezone(SERVICE_TZ).date()


@dataclass(frozen=True)
class SlaPolicy:
    first_response_seconds: int = 60  # online chat: first response
    classify_minutes: int = 5  # online chat: classify the request
    response_minutes: int = 30  # any request: response target
    overdue_warning_minutes: int = 15  # warn the owner this long past a step deadline
    simple_plan_hours: int = 24  # simple request: solution plan
    complex_plan_working_days: int = 5  # complex request: 3–5 working days (deadline: the upper bound)
    initial_solution_working_days: int = 2  # any request: initial solution
    complaint_contact_minutes: int = 60  # complaint: contact the customer
    complaint_resolve_hours: int = 24  # complaint: general resolved
    complaint_complex_working_days: int = 5  # complaint: complex resolved (3–5 working days)
    feedback_reply_working_days: int = 3  # feedback / suggestion: reply
    approval_amount_yuan: int = 5000  # at or above: the grid manager approves
    holidays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def from_settings(cls, values: Mapping[str, object] | None) -> SlaPolicy:
        """A grid's policy: the defaults with the grid's overrides (unknown keys are refused)."""
        if not values:
            return cls()
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown SLA settings: {', '.join(sorted(unknown))}")
        overrides: dict[str, object] = {}
        for key, value in values.items():
            if key == "holidays":
                if not isinstance(value, list | tuple | set | frozenset):
                    raise ValueError('SLA setting holidays must be a list of dates like "2026-10-01"')
                overrides[key] = frozenset(date.fromisoformat(str(d)) for d in value)
            elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"SLA setting {key} must be a non-negative whole number")
            else:
                overrides[key] = value
        return replace(cls(), **overrides)  # type: ignore[arg-type]


def is_working_day(day: date, holidays: Iterable[date] = ()) -> bool:
    return day.weekday() < 5 and day not in set(holidays)


def add_working_days(start: datetime, days: int, holidays: Iterable[date] = ()) -> datetime:
    """``start`` moved forward by ``days`` working days, keeping the time of day.

    A start on a weekend or holiday counts from the beginning of the next working day: a Friday
    10:00 request with 2 working days is due Tuesday 10:00; a Saturday one at the end of Tuesday.
    """
    holidays = frozenset(holidays)
    local = start.astimezone(SERVICE_TZ)
    if not is_working_day(local.date(), holidays):
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
        while not is_working_day(local.date(), holidays):
            local += timedelta(days=1)
    remaining = days
    while remaining > 0:
        local += timedelta(days=1)
        if is_working_day(local.date(), holidays):
            remaining -= 1
    return local.astimezone(start.tzinfo or SERVICE_TZ)
