"""How often each FAQ is used: counters per FAQ × day × kind (answered, suggested, chosen, helpful,
unhelpful), counted up in place so concurrent action-server workers never lose a count."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from griddesk.db import rows_changed, utcnow
from knowledge_base.models import FaqUsage, UsageKind

KINDS = tuple(k.value for k in UsageKind)


def _bump(session: Session, faq_id: int, day: date, kind: str, n: int) -> bool:
    result = session.execute(
        update(FaqUsage)
        .where(FaqUsage.faq_id == faq_id, FaqUsage.day == day, FaqUsage.kind == kind)
        .values(count=FaqUsage.count + n)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result) > 0


def record_usage(session: Session, faq_id: int, kind: UsageKind | str, day: date | None = None, n: int = 1) -> None:
    """Count ``n`` uses of ``kind`` for the FAQ on ``day`` (default: today, UTC).

    ``UPDATE … SET count = count + n``, inserting the row when there is none; when another writer
    inserted it first (the unique constraint fires), the insert is undone in its savepoint and the
    update retried. Works the same on SQLite and PostgreSQL."""
    kind = UsageKind(kind).value
    day = day or utcnow().date()
    if _bump(session, faq_id, day, kind, n):
        return
    try:
        with session.begin_nested():
            session.execute(insert(FaqUsage).values(faq_id=faq_id, day=day, kind=kind, count=n))
    except IntegrityError:
        if not _bump(session, faq_id, day, kind, n):
            raise


def _empty() -> dict[str, int]:
    return dict.fromkeys(KINDS, 0)


def usage_series(session: Session, faq_id: int, days: int = 30, today: date | None = None) -> list[dict[str, object]]:
    """One entry per day of the last ``days`` days (oldest first, days without use included):
    ``{"day": "YYYY-MM-DD", "answered", "suggested", "chosen", "helpful", "unhelpful"}``."""
    today = today or utcnow().date()
    days = max(1, days)
    first = today - timedelta(days=days - 1)
    counts: dict[date, dict[str, int]] = {first + timedelta(days=i): _empty() for i in range(days)}
    rows = session.execute(
        select(FaqUsage.day, FaqUsage.kind, FaqUsage.count).where(
            FaqUsage.faq_id == faq_id, FaqUsage.day >= first, FaqUsage.day <= today
        )
    )
    for day, kind, count in rows:
        if day in counts and kind in counts[day]:
            counts[day][kind] += count
    return [{"day": day.isoformat(), **values} for day, values in counts.items()]


def usage_totals(
    session: Session, faq_ids: Iterable[int], days: int | None = None, today: date | None = None
) -> dict[int, dict[str, int]]:
    """Counts per kind for each FAQ (all time, or the last ``days`` days); FAQs never used get zeros."""
    ids = list(dict.fromkeys(faq_ids))
    totals = {faq_id: _empty() for faq_id in ids}
    for start in range(0, len(ids), 500):
        stmt = (
            select(FaqUsage.faq_id, FaqUsage.kind, func.sum(FaqUsage.count))
            .where(FaqUsage.faq_id.in_(ids[start : start + 500]))
            .group_by(FaqUsage.faq_id, FaqUsage.kind)
        )
        if days is not None:
            stmt = stmt.where(FaqUsage.day >= (today or utcnow().date()) - timedelta(days=max(1, days) - 1))
        for faq_id, kind, count in session.execute(stmt):
            if kind in totals[faq_id]:
                totals[faq_id][kind] = int(count or 0)
    return totals
