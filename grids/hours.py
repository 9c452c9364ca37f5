"""A grid's business hours (营业时间): is its human service open now, and when does it open next.

A grid's ``business_hours`` setting::

    {"days": [1, 2, 3, 4, 5],          # ISO weekdays, Monday = 1
     "open": "09:00", "close": "18:00", # local wall-clock times; "24:00" = until midnight
     "timezone": "Asia/Shanghai",       # optional, this is the default
     "closed_dates": ["2026-10-01"]}    # optional: holidays, closed all day

An empty setting means always open. Opening hours do not span midnight (``open`` < ``close``);
a grid that serves at night is written ``"open": "00:00", "close": "24:00"``. A malformed setting
raises ``InvalidBusinessHours`` (a ``ValueError``) naming what is wrong, so an admin's typo is caught where it is saved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Shanghai"
KNOWN_KEYS = frozenset({"days", "open", "close", "timezone", "closed_dates"})
# how far ahead next_opening looks (a year of holidays is more than any calendar closes)
SEARCH_DAYS = 400
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


class InvalidBusinessHours(ValueError):
    """A grid's business-hours setting is malformed; the message says what is wrong."""


@dataclass(frozen=True)
class BusinessHours:
    """The parsed setting. Minutes since local midnight: ``opens`` < ``closes`` ≤ 1440."""

    days: frozenset[int]
    opens: int
    closes: int
    zone: ZoneInfo
    closed_dates: frozenset[date]
    always_open: bool = False

    def open_on(self, day: date) -> bool:
        return day.isoweekday() in self.days and day not in self.closed_dates


def _minutes(value: object, name: str) -> int:
    match = _CLOCK.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidBusinessHours(f'business hours: {name} must be a time like "08:00", got {value!r}')
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise InvalidBusinessHours(f"business hours: {name} {value!r} is not a time of day (00:00–24:00)")
    return hours * 60 + minutes


def _days(value: object) -> frozenset[int]:
    if not isinstance(value, list) or not value:
        raise InvalidBusinessHours(
            f"business hours: days must be a non-empty list of weekdays 1–7 (Monday = 1), got {value!r}"
        )
    for day in value:
        if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 7:
            raise InvalidBusinessHours(f"business hours: days must be weekdays 1–7 (Monday = 1), got {day!r}")
    return frozenset(value)


def _zone(value: object) -> ZoneInfo:
    if not isinstance(value, str) or not value:
        raise InvalidBusinessHours(f'business hours: timezone must be a name such as "Asia/Shanghai", got {value!r}')
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidBusinessHours(f"business hours: unknown timezone {value!r}") from None


def _closed_dates(value: object) -> frozenset[date]:
    if not isinstance(value, list):
        raise InvalidBusinessHours(
            f'business hours: closed_dates must be a list of dates like "2026-10-01", got {value!r}'
        )
    dates: set[date] = set()
    for item in value:
        try:
            if not isinstance(item, str):
                raise TypeError(item)
            dates.add(date.fromisoformat(item))
        except (TypeError, ValueError):
            raise InvalidBusinessHours(
                f'business hours: closed date {item!r} is not a date like "2026-10-01"'
            ) from None
    return frozenset(dates)


def parse_business_hours(setting: Mapping[str, object] | None) -> BusinessHours:
    """The setting checked and parsed; InvalidBusinessHours (a ValueError) says what is wrong with it."""
    if setting is None or (isinstance(setting, Mapping) and not setting):
        return BusinessHours(frozenset(range(1, 8)), 0, 24 * 60, ZoneInfo(DEFAULT_TIMEZONE), frozenset(), True)
    if not isinstance(setting, Mapping):
        raise InvalidBusinessHours(f"business hours must be an object, got {setting!r}")
    unknown = sorted(set(setting) - KNOWN_KEYS)
    if unknown:
        raise InvalidBusinessHours(f"business hours: unknown setting {', '.join(unknown)}")
    missing = [key for key in ("days", "open", "close") if key not in setting]
    if missing:
        raise InvalidBusinessHours(f"business hours: {', '.join(missing)} missing")
    opens, closes = _minutes(setting["open"], "open"), _minutes(setting["close"], "close")
    if opens >= closes:
        raise InvalidBusinessHours(
            f"business hours: open {setting['open']} must be before close {setting['close']} "
            "(hours cannot span midnight; use 00:00–24:00 for all day)"
        )
    return BusinessHours(
        days=_days(setting["days"]),
        opens=opens,
        closes=closes,
        zone=_zone(setting.get("timezone", DEFAULT_TIMEZONE)),
        closed_dates=_closed_dates(setting.get("closed_dates", [])),
    )


def _local(hours: BusinessHours, now: datetime) -> datetime:
    if now.tzinfo is None:
        raise InvalidBusinessHours("business hours: now must be timezone-aware")
    return now.astimezone(hours.zone)


def is_open(business_hours: Mapping[str, object] | None, now: datetime) -> bool:
    """Whether the grid's human service is open at ``now`` (an aware datetime)."""
    hours = parse_business_hours(business_hours)
    if hours.always_open:
        return True
    local = _local(hours, now)
    minute = local.hour * 60 + local.minute
    return hours.open_on(local.date()) and hours.opens <= minute < hours.closes


def next_opening(business_hours: Mapping[str, object] | None, now: datetime) -> datetime | None:
    """``now`` when open; otherwise the next moment the service opens, in the grid's time zone.
    None when it does not open within a year (every day a closed date)."""
    hours = parse_business_hours(business_hours)
    if is_open(business_hours, now):
        return now.astimezone(hours.zone)
    local = _local(hours, now)
    minute = local.hour * 60 + local.minute
    for offset in range(SEARCH_DAYS):
        day = local.date() + timedelta(days=offset)
        if not hours.open_on(day) or (offset == 0 and minute >= hours.opens):
            continue
        start = time(hours.opens // 60, hours.opens % 60)
        return datetime.combine(day, start, tzinfo=hours.zone)
    return None
