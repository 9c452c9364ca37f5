from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from grids.hours import InvalidBusinessHours, is_open, next_opening

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKDAYS = {"days": [1, 2, 3, 4, 5], "open": "09:00", "close": "18:00"}
EVERY_DAY = {"days": [1, 2, 3, 4, 5, 6, 7], "open": "08:00", "close": "22:00"}
ROUND_THE_CLOCK = {"days": [1, 2, 3, 4, 5, 6, 7], "open": "00:00", "close": "24:00"}
HOLIDAY = {**EVERY_DAY, "closed_dates": ["2026-10-01", "2026-10-02"]}
LONDON = {**WEEKDAYS, "timezone": "Europe/London"}


def at(text: str, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


# 2026-11-23 is a Monday, 2026-11-28 a Saturday, 2026-10-01 a Thursday.
@pytest.mark.parametrize(
    "hours, moment, expected",
    [
        (WEEKDAYS, "2026-11-23 09:00", True),  # opening minute included
        (WEEKDAYS, "2026-11-23 08:59", False),
        (WEEKDAYS, "2026-11-23 17:59", True),
        (WEEKDAYS, "2026-11-23 18:00", False),  # closing minute excluded
        (WEEKDAYS, "2026-11-28 10:00", False),  # Saturday
        (EVERY_DAY, "2026-11-28 10:00", True),
        (EVERY_DAY, "2026-11-28 22:30", False),
        (ROUND_THE_CLOCK, "2026-11-28 23:59", True),
        (ROUND_THE_CLOCK, "2026-11-29 00:00", True),
        (HOLIDAY, "2026-10-01 10:00", False),  # a closed date
        (HOLIDAY, "2026-10-03 10:00", True),
        ({}, "2026-11-28 03:00", True),  # no calendar: always open
        (LONDON, "2026-11-23 09:30", False),  # 01:30 in London
        (LONDON, "2026-11-23 17:30", True),  # 09:30 in London
    ],
)
def test_is_open_follows_days_hours_closed_dates_and_time_zone(hours, moment, expected):
    assert is_open(hours, at(moment)) is expected


def test_a_utc_moment_is_read_in_the_grids_time_zone():
    assert is_open(WEEKDAYS, datetime(2026, 11, 23, 1, 0, tzinfo=UTC))  # 09:00 in Shanghai
    assert not is_open(WEEKDAYS, datetime(2026, 11, 23, 0, 59, tzinfo=UTC))


@pytest.mark.parametrize(
    "hours, moment, expected",
    [
        (WEEKDAYS, "2026-11-23 07:00", "2026-11-23 09:00"),  # later today
        (WEEKDAYS, "2026-11-23 19:00", "2026-11-24 09:00"),  # tomorrow
        (WEEKDAYS, "2026-11-27 18:00", "2026-11-30 09:00"),  # Friday evening → Monday
        (WEEKDAYS, "2026-11-28 12:00", "2026-11-30 09:00"),  # Saturday → Monday
        (HOLIDAY, "2026-09-30 23:00", "2026-10-03 08:00"),  # over the holidays
    ],
)
def test_next_opening_is_the_next_open_day_at_opening_time(hours, moment, expected):
    assert next_opening(hours, at(moment)) == at(expected)


def test_next_opening_while_open_is_now_and_is_in_the_grids_time_zone():
    moment = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    opening = next_opening(WEEKDAYS, moment)
    assert opening == moment and opening.tzinfo == SHANGHAI
    assert next_opening(LONDON, at("2026-11-23 07:00")) == at("2026-11-23 09:00", ZoneInfo("Europe/London"))


def test_a_calendar_closed_for_more_than_a_year_has_no_next_opening():
    start = date(2026, 12, 29)  # a Tuesday
    mondays = [start + timedelta(days=n) for n in range(450) if (start + timedelta(days=n)).isoweekday() == 1]
    hours = {"days": [1], "open": "09:00", "close": "10:00", "closed_dates": [d.isoformat() for d in mondays]}
    assert next_opening(hours, at("2026-12-29 12:00")) is None
    assert next_opening({**hours, "closed_dates": [d.isoformat() for d in mondays[1:]]}, at("2026-12-29 12:00")) == at(
        "2027-01-04 09:00"
    )


@pytest.mark.parametrize(
    "hours, message",
    [
        ({"days": [1, 2], "open": "9am", "close": "18:00"}, "open must be a time"),
        ({"days": [1, 2], "open": "09:00", "close": "24:30"}, "not a time of day"),
        ({"days": [1, 2], "open": "09:60", "close": "18:00"}, "not a time of day"),
        ({"days": [0, 1], "open": "09:00", "close": "18:00"}, "weekdays 1–7"),
        ({"days": [], "open": "09:00", "close": "18:00"}, "non-empty list"),
        ({"days": [1], "open": "18:00", "close": "09:00"}, "must be before close"),
        ({"days": [1], "open": "09:00"}, "close missing"),
        ({"days": [1], "open": "09:00", "close": "18:00", "timezone": "Mars/Olympus"}, "unknown timezone"),
        ({"days": [1], "open": "09:00", "close": "18:00", "closed_dates": ["10月1日"]}, "closed date '10月1日'"),
        ({"days": [1], "open": "09:00", "close": "18:00", "holidays": []}, "unknown setting holidays"),
        (["09:00", "18:00"], "must be an object"),
    ],
)
def test_a_malformed_calendar_is_a_value_error_that_says_what_is_wrong(hours, message):
    with pytest.raises(ValueError, match=message) as raised:
        is_open(hours, at("2026-11-23 10:00"))
    assert isinstance(raised.value, InvalidBusinessHours)


def test_a_naive_moment_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open(WEEKDAYS, datetime(2026, 11, 23, 10, 0))
