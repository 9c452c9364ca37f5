"""The values actions put into their responses."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from actions.texts import (
    category_label,
    duration_zh,
    feedback_buttons,
    local_time_zh,
    opening_zh,
    service_hours_zh,
    state_label,
    ticket_lines,
    yuan,
)


@pytest.mark.parametrize(
    "minutes, text",
    [(30, "30分钟"), (60, "1小时"), (90, "1小时30分钟"), (1440, "24小时"), (15, "15分钟"), (0, "0分钟")],
)
def test_durations_read_as_chinese_hours_and_minutes(minutes, text):
    assert duration_zh(minutes) == text


def test_deadlines_are_shown_in_shanghai_time_with_month_and_day():
    assert local_time_zh(datetime(2026, 11, 23, 6, 30, tzinfo=UTC)) == "11月23日 14:30"
    assert local_time_zh(datetime(2026, 12, 31, 16, 5, tzinfo=UTC)) == "1月1日 00:05"


def test_labels_are_chinese_and_unknown_codes_pass_through():
    assert category_label("fault") == "故障报修"
    assert category_label("refund") == "退款/赔偿"
    assert state_label("in_progress") == "处理中"
    assert state_label("closed") == "已关闭"
    assert category_label("mystery") == "mystery" and state_label("mystery") == "mystery"


@pytest.mark.parametrize(
    "amount, text",
    [(Decimal("5000.00"), "5000"), (Decimal("199.50"), "199.5"), ("12000", "12000"), (Decimal("0.05"), "0.05")],
)
def test_amounts_drop_trailing_zeros(amount, text):
    assert yuan(amount) == text


def test_ticket_lines_list_number_category_and_state():
    assert ticket_lines([("GD-7K3QX9", "fault", "in_progress"), ("GD-22AB3C", "billing", "accepted")]) == (
        "GD-7K3QX9 · 故障报修 · 处理中\nGD-22AB3C · 账务/发票 · 已受理"
    )


@pytest.mark.parametrize(
    "hours, text",
    [
        ({"days": [1, 2, 3, 4, 5], "open": "09:00", "close": "18:00"}, "周一至周五 9:00–18:00"),
        ({"days": [1, 2, 3, 4, 5, 6, 7], "open": "08:00", "close": "22:00"}, "每天 8:00–22:00"),
        ({"days": [7, 1, 2, 3, 4, 5, 6], "open": "00:00", "close": "24:00"}, "每天24小时"),
        ({"days": [6, 7], "open": "10:30", "close": "16:00"}, "周六、周日 10:30–16:00"),
        ({"days": [1, 3, 4, 5], "open": "00:00", "close": "24:00"}, "周一、周三至周五 全天"),
        ({}, "每天24小时"),
    ],
)
def test_service_hours_read_as_days_and_times(hours, text):
    assert service_hours_zh(hours) == text


def test_the_next_opening_shows_date_weekday_and_time_in_its_own_zone():
    from zoneinfo import ZoneInfo

    assert opening_zh(datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))) == "11月30日（周一）9:00"


def test_feedback_buttons_rate_the_faq_they_sit_under():
    assert feedback_buttons(12) == [
        {"title": "有帮助", "payload": '/faq_feedback{"faq_id": "12", "helpful": "yes"}'},
        {"title": "没帮助", "payload": '/faq_feedback{"faq_id": "12", "helpful": "no"}'},
    ]
