from datetime import date, datetime

import pytest

from grids.sla import SERVICE_TZ, SlaPolicy, add_working_days


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=SERVICE_TZ)  # 2026-11-20 is a Friday


@pytest.mark.parametrize(
    "start, days, due",
    [
        (at(18), 2, at(20)),  # Wednesday → Friday
        (at(20), 2, at(24)),  # Friday → Tuesday, over the weekend
        (at(20), 5, at(27)),  # Friday → next Friday
        (at(21), 2, at(25, 0)),  # Saturday: counted from Monday 00:00 → end of Tuesday
        (at(22, 23), 1, at(24, 0)),  # Sunday night → end of Monday
        (at(20), 0, at(20)),
    ],
)
def test_working_days_skip_weekends(start, days, due):
    assert add_working_days(start, days) == due


def test_working_days_skip_holidays():
    holidays = {date(2026, 11, 23)}  # the Monday
    assert add_working_days(at(20), 2, holidays) == at(25)


def test_policy_defaults_are_the_domain_figures_and_grids_override_them():
    policy = SlaPolicy()
    assert (
        policy.response_minutes,
        policy.complaint_contact_minutes,
        policy.overdue_warning_minutes,
        policy.approval_amount_yuan,
        policy.feedback_reply_working_days,
    ) == (30, 60, 15, 5000, 3)
    custom = SlaPolicy.from_settings({"response_minutes": 15, "holidays": ["2026-10-01"]})
    assert custom.response_minutes == 15 and date(2026, 10, 1) in custom.holidays
    assert custom.complaint_contact_minutes == 60


@pytest.mark.parametrize("values", [{"respond_minutes": 5}, {"response_minutes": -1}, {"response_minutes": "x"}])
def test_bad_sla_settings_are_refused(values):
    with pytest.raises(ValueError):
        SlaPolicy.from_settings(values)
