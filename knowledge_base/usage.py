"""How often each FAQ is used: counters per FAQ × day × kind (answered, suggested, chosen, helpful,
unhelpful), counted up in place so concurrent action-server workers never lose a count.

A day is a calendar day in the service's time zone (Asia/Shanghai, ``grids.sla.SERVICE_TZ``), as the
reports count it (docs/kpis.md): a customer answered at 07:30 Beijing time counts on that day, not on
the UTC day before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, func, insert, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from griddesk.db import rows_changed, utcnow
from grids.sla import service_day
from knowledge_base.models import Faq, FaqUsage, UsageKind

KINDS = tuple(k.value for k in UsageKind)
# what ranks the most used FAQs: the times an FAQ was the answer a customer got
USES = (UsageKind.ANSWERED.value, UsageKind.CHOSEN.value)


def _bump(session: Session, faq_id: int, day: date, kind: str, n: int) -> bool:
    result = session.execute(
        update(FaqUsage)
        .where(FaqUsage.faq_id == faq_id, FaqUsage.day == day, FaqUsage.kind == kind)
        .values(count=FaqUsage.count + n)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result) > 0


def record_usage(
    session: Session,
    faq_id: int,
    kind: UsageKind | str,
    day: date | None = None,
    n: int = 1,
    at: datetime | None = None,
) -> None:
    """Count ``n`` uses of ``kind`` for the FAQ on ``day`` (default: the service's day of ``at``, or of now).

    ``UPDATE … SET count = count + n``, inserting the row when there is none; when another writer
    inserted it first (the unique constraint fires), the insert is undone in its savepoint and the
    update retried. Works the same on SQLite and PostgreSQL."""
    kind = UsageKind(kind).value
    day = day or service_day(at or utcnow())
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


def _visible(visible_grids: Sequence[str] | None) -> ColumnElement[bool]:
    """FAQs a reader may see: every one (None), else the global ones and those of ``visible_grids``."""
    if visible_grids is None:
        return true()
    return or_(Faq.grid.is_(None), Faq.grid.in_(list(visible_grids)))


def _series(session: Session, which: ColumnElement[bool], days: int, today: date | None) -> list[dict[str, object]]:
    today = today or service_day(utcnow())
    days = max(1, days)
    first = today - timedelta(days=days - 1)
    counts: dict[date, dict[str, int]] = {first + timedelta(days=i): _empty() for i in range(days)}
    rows = session.execute(
        select(FaqUsage.day, FaqUsage.kind, func.sum(FaqUsage.count))
        .join(Faq, Faq.id == FaqUsage.faq_id)
        .where(which, FaqUsage.day >= first, FaqUsage.day <= today)
        .group_by(FaqUsage.day, FaqUsage.kind)
    )
    for day, kind, count in rows:
        if day in counts and kind in counts[day]:
            counts[day][kind] += int(count or 0)
    return [{"day": day.isoformat(), **values} for day, values in counts.items()]


def usage_series(session: Session, faq_id: int, days: int = 30, today: date | None = None) -> list[dict[str, object]]:
    """One entry per day of the last ``days`` days up to ``today`` (the service's today by default), oldest
    first, days without use included: ``{"day": "YYYY-MM-DD", "answered", "suggested", "chosen", "helpful",
    "unhelpful"}``."""
    return _series(session, Faq.id == faq_id, days, today)


def overall_series(
    session: Session, days: int = 30, today: date | None = None, visible_grids: Sequence[str] | None = None
) -> list[dict[str, object]]:
    """Like :func:`usage_series`, summed over every FAQ the reader may see (``visible_grids``: a grid
    manager's grids; None = all)."""
    return _series(session, _visible(visible_grids), days, today)


@dataclass(frozen=True)
class TopFaq:
    faq: Faq
    totals: dict[str, int]

    @property
    def uses(self) -> int:
        return sum(self.totals[kind] for kind in USES)


def top_faqs(
    session: Session,
    days: int = 30,
    limit: int = 10,
    today: date | None = None,
    visible_grids: Sequence[str] | None = None,
) -> list[TopFaq]:
    """The FAQs customers got most often in the last ``days`` days (answered directly or chosen from the
    suggestions), most used first; FAQs not used in the window are left out."""
    today = today or service_day(utcnow())
    first = today - timedelta(days=max(1, days) - 1)
    uses = func.sum(FaqUsage.count).label("uses")
    ranked = session.execute(
        select(FaqUsage.faq_id, uses)
        .join(Faq, Faq.id == FaqUsage.faq_id)
        .where(_visible(visible_grids), FaqUsage.kind.in_(USES), FaqUsage.day >= first, FaqUsage.day <= today)
        .group_by(FaqUsage.faq_id)
        .order_by(uses.desc(), FaqUsage.faq_id)
        .limit(max(1, limit))
    ).all()
    ids = [row.faq_id for row in ranked]
    faqs = {faq.id: faq for faq in session.scalars(select(Faq).where(Faq.id.in_(ids)))}
    totals = usage_totals(session, ids, days=days, today=today)
    return [TopFaq(faqs[i], totals[i]) for i in ids if i in faqs]


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
            last = today or service_day(utcnow())
            stmt = stmt.where(FaqUsage.day >= last - timedelta(days=max(1, days) - 1), FaqUsage.day <= last)
        for faq_id, kind, count in session.execute(stmt):
            if kind in totals[faq_id]:
                totals[faq_id][kind] = int(count or 0)
    return totals
