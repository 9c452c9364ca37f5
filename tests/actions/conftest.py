"""Clocks for the handoff actions: the seed grids are open (most 8:00–22:00, billing weekdays 9:00–18:00)
or closed, whatever the time the tests run; and the demo knowledge base the FAQ actions search."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from actions import human
from griddesk.db import session_scope
from knowledge_base import search as search_module
from knowledge_base.index import Thresholds
from knowledge_base.search import KnowledgeBase
from tests.encoders import HashingEncoder
from tests.factories import make_demo_faqs

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


@pytest.fixture
def kb(settings, monkeypatch: pytest.MonkeyPatch) -> KnowledgeBase:
    """The five demo FAQs behind the actions' knowledge base (tiny hashing encoder)."""
    with session_scope() as session:
        make_demo_faqs(session)
    kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
    kb.thresholds = Thresholds(answer=0.8, suggest=0.3)
    monkeypatch.setattr(search_module, "_kb", kb)
    return kb
