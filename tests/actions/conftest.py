"""Clocks for the handoff actions: the seed grids are open (most 8:00–22:00, billing weekdays 9:00–18:00)
or closed, whatever the time the tests run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from actions import human

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_MORNING = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)  # every seed grid is open
MONDAY_NIGHT = datetime(2026, 11, 23, 23, 30, tzinfo=SHANGHAI)  # only key-accounts (24 h) is open
SATURDAY_MORNING = datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI)  # billing (weekdays) is closed


@pytest.fixture
def set_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    def set_to(moment: datetime) -> None:
        monkeypatch.setattr(human, "now", lambda: moment)
    return set_to


@pytest.fixture
def open_hours(set_clock: Callable[[datetime], None]) -> datetime:
    set_clock(MONDAY_MORNING)
    return MONDAY_MORNING


@pytest.fixture
def night(set_clock: Callable[[datetime], None]) -> datetime:
    set_clock(MONDAY_NIGHT)
    return MONDAY_NIGHT
