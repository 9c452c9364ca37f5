"""The demo-data generator: deterministic, refuses a database with other data, and the reports read it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from conversations.models import Conversation, Message
from griddesk import db as db_module
from griddesk.db import session_scope
from griddesk.settings import get_settings
from handoff.models import Handoff, Rating
from reports.demo import DemoRefused, generate
from reports.kpis import compute, window_of
from tests.factories import make_conversation, make_handoff
from tickets.intake import new_ticket
from tickets.models import Ticket, TicketEvent
from tickets.service import open_ticket

END = date(2026, 11, 30)


def snapshot() -> dict[str, object]:
    with session_scope() as session:
        return {
            "counts": [
                session.scalar(select(func.count()).select_from(model))
                for model in (Conversation, Message, Handoff, Rating, Ticket, TicketEvent)
            ],
            "first": session.execute(
                select(Conversation.sender_id, Conversation.created_at).order_by(Conversation.id).limit(3)
            ).all(),
            "scores": session.scalar(select(func.sum(Rating.score))),
            "numbers": session.scalars(select(Ticket.number).order_by(Ticket.id).limit(5)).all(),
        }


def run(seed: int = 7, force: bool = False) -> None:
    with session_scope() as session:
        generate(session, seed=seed, scale=0.01, end=END, force=force, say=lambda _line: None)


def use_database(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Point the process at another fresh database."""
    monkeypatch.setenv("GRIDDESK_DATABASE_URL", url)
    get_settings.cache_clear()
    db_module.reset_engine()


def test_the_same_seed_gives_the_same_rows_and_another_seed_other_rows(settings, next_database_url, monkeypatch):
    run(seed=7)
    first = snapshot()
    assert first["counts"][0] == 1000 and first["counts"][4] == 500  # scale 0.01 of 100k conversations, 50k tickets
    assert first["counts"][1] >= 4000  # 4–16 messages each
    use_database(monkeypatch, next_database_url())
    run(seed=7)
    assert snapshot() == first
    use_database(monkeypatch, next_database_url())
    run(seed=8)
    assert snapshot() != first


def test_a_database_with_other_conversations_is_refused_unless_forced(settings):
    with session_scope() as session:
        make_conversation(session, "real-customer", ("你好",))
    with pytest.raises(DemoRefused, match="1 条非演示数据"):
        run()
    run(force=True)
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Conversation)) == 1001


def test_a_second_run_on_demo_data_is_refused_too(settings):
    run()
    with pytest.raises(DemoRefused, match="演示数据"):
        run()


def test_the_reports_read_a_year_of_demo_data(settings):
    run()
    with session_scope() as session:
        window = window_of(date(2025, 12, 1), END, None, datetime(2026, 12, 1, tzinfo=UTC))
        total = compute(session, window)[""]
        by_month = compute(session, window, "month")
    assert total["conversations"] == 1000 and total["tickets_opened"] == 500
    assert 0 < total["bot_resolved_rate"] < 1 and 3.5 < total["csat_avg"] < 5
    assert total["first_response_p50_seconds"] <= total["first_response_p90_seconds"]
    assert 0 < total["agent_utilisation"] < 1
    assert len(by_month) == 12 and sum(g.get("conversations", 0) for g in by_month.values()) == 1000


def test_after_demo_data_the_product_still_adds_conversations_handoffs_and_tickets(settings):
    """The generator writes ids itself; the product's next rows must still get free ids (PostgreSQL sequences)."""
    run()
    with session_scope() as session:
        handoff = make_handoff(session, "after-demo")
        ticket = open_ticket(
            session,
            new_ticket({"category": "fault", "description": "网络时断时续", "contact_phone": "13800138000",
                        "contact_name": "王先生", "region": "成都市武侯区"}),
        )  # fmt: skip
        assert handoff.conversation_id > 1000 and handoff.id > 0 and ticket.id > 500
