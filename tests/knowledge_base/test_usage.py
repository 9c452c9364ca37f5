"""Usage counters per FAQ × day × kind."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from griddesk.db import session_scope
from knowledge_base.models import FaqUsage, UsageKind
from knowledge_base.usage import overall_series, record_usage, top_faqs, usage_series, usage_totals
from tests.factories import make_faq

TODAY = date(2026, 11, 22)


def test_counts_add_up_in_one_row_per_faq_day_and_kind(settings):
    with session_scope() as session:
        faq_id = make_faq(session).id
    with session_scope() as session:
        record_usage(session, faq_id, UsageKind.ANSWERED, day=TODAY)
        record_usage(session, faq_id, "answered", day=TODAY, n=2)
        record_usage(session, faq_id, UsageKind.HELPFUL, day=TODAY)
    with session_scope() as session:
        rows = {(r.kind, r.count) for r in session.scalars(select(FaqUsage))}
    assert rows == {("answered", 3), ("helpful", 1)}


def test_concurrent_writers_lose_no_count(settings):
    with session_scope() as session:
        faq_id = make_faq(session).id
    start = threading.Barrier(4)

    def count() -> None:
        start.wait(timeout=5)
        for _ in range(10):
            with session_scope() as session:
                record_usage(session, faq_id, UsageKind.SUGGESTED, day=TODAY)

    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(FaqUsage)) == 1
        assert session.scalar(select(FaqUsage.count)) == 40


def test_a_row_inserted_by_someone_else_meanwhile_is_counted_up_instead(settings, monkeypatch):
    from knowledge_base import usage

    with session_scope() as session:
        faq_id = make_faq(session).id
    real_bump = usage._bump
    calls = []

    def racing_bump(session, *args):  # the first look finds nothing; then another writer inserts the row
        calls.append(args)
        if len(calls) == 1:
            with session_scope() as other:
                other.add(FaqUsage(faq_id=faq_id, day=TODAY, kind="chosen", count=5))
            return False
        return real_bump(session, *args)

    monkeypatch.setattr(usage, "_bump", racing_bump)
    with session_scope() as session:
        record_usage(session, faq_id, UsageKind.CHOSEN, day=TODAY)
    with session_scope() as session:
        assert [r.count for r in session.scalars(select(FaqUsage))] == [6]


def test_the_series_has_every_day_oldest_first_and_totals_sum_by_kind(settings):
    with session_scope() as session:
        first, second = make_faq(session).id, make_faq(session, "客服电话").id
        record_usage(session, first, UsageKind.ANSWERED, day=TODAY, n=4)
        record_usage(session, first, UsageKind.UNHELPFUL, day=TODAY - timedelta(days=2))
        record_usage(session, first, UsageKind.ANSWERED, day=TODAY - timedelta(days=40), n=7)
        record_usage(session, second, UsageKind.CHOSEN, day=TODAY)
    with session_scope() as session:
        series = usage_series(session, first, days=3, today=TODAY)
        totals = usage_totals(session, [first, second, 999])
        recent = usage_totals(session, [first], days=30, today=TODAY)
    assert [s["day"] for s in series] == ["2026-11-20", "2026-11-21", "2026-11-22"]
    assert series[0]["unhelpful"] == 1 and series[2]["answered"] == 4 and series[1]["answered"] == 0
    assert set(series[0]) == {"day", "answered", "suggested", "chosen", "helpful", "unhelpful"}
    assert totals[first]["answered"] == 11 and totals[second]["chosen"] == 1
    assert totals[999] == dict.fromkeys(["answered", "suggested", "chosen", "helpful", "unhelpful"], 0)
    assert recent[first]["answered"] == 4


def test_a_use_counts_on_the_day_in_beijing_not_the_utc_day_before(settings):
    early = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # 2026-11-23 07:30 in Asia/Shanghai
    with session_scope() as session:
        faq_id = make_faq(session).id
        record_usage(session, faq_id, UsageKind.ANSWERED, at=early)
    with session_scope() as session:
        assert [(r.day, r.count) for r in session.scalars(select(FaqUsage))] == [(date(2026, 11, 23), 1)]


def test_the_series_ends_on_the_service_day(settings, monkeypatch):
    from knowledge_base import usage

    # 00:30 in Beijing on the 23rd is still the 22nd in UTC: the chart's last day is the 23rd
    monkeypatch.setattr(usage, "utcnow", lambda: datetime(2026, 11, 22, 16, 30, tzinfo=UTC))
    with session_scope() as session:
        faq_id = make_faq(session).id
        record_usage(session, faq_id, UsageKind.ANSWERED)
        series = usage_series(session, faq_id, days=2)
    assert [(s["day"], s["answered"]) for s in series] == [("2026-11-22", 0), ("2026-11-23", 1)]


def test_the_top_faqs_are_the_most_answered_and_chosen_in_the_window_and_only_those_the_reader_sees(settings):
    with session_scope() as session:
        plain = make_faq(session, "怎么开发票").id
        popular = make_faq(session, "宽带断了").id
        ours = make_faq(session, "武侯营业厅在哪", grid="cd-wuhou").id
        theirs = make_faq(session, "浦东营业厅在哪", grid="sh-pudong").id
        unused = make_faq(session, "没人问").id
        record_usage(session, plain, UsageKind.ANSWERED, day=TODAY, n=2)
        record_usage(session, plain, UsageKind.SUGGESTED, day=TODAY, n=50)  # offered is not used
        record_usage(session, popular, UsageKind.ANSWERED, day=TODAY, n=3)
        record_usage(session, popular, UsageKind.CHOSEN, day=TODAY - timedelta(days=1), n=2)
        record_usage(session, popular, UsageKind.ANSWERED, day=TODAY - timedelta(days=30), n=100)  # too old
        record_usage(session, ours, UsageKind.CHOSEN, day=TODAY, n=4)
        record_usage(session, theirs, UsageKind.ANSWERED, day=TODAY, n=9)
    with session_scope() as session:
        every = [(t.faq.id, t.uses) for t in top_faqs(session, days=7, today=TODAY)]
        manager = [t.faq.id for t in top_faqs(session, days=7, today=TODAY, visible_grids=["cd-wuhou"])]
        first = top_faqs(session, days=7, limit=1, today=TODAY)[0]
        summed = overall_series(session, days=2, today=TODAY, visible_grids=["cd-wuhou"])
    assert every == [(theirs, 9), (popular, 5), (ours, 4), (plain, 2)]
    assert unused not in dict(every)
    assert manager == [popular, ours, plain]
    assert first.totals["answered"] == 9 and first.totals["chosen"] == 0
    assert [(s["answered"], s["chosen"], s["suggested"]) for s in summed] == [(0, 2, 0), (5, 4, 50)]
