"""One read of a KPI family's rows gives its totals and its groups: sums and nearest-rank percentiles.

``tally`` takes a subquery with a group column ``g`` and the family's measures, and returns the totals of
the window and the figures of each group from one SQL statement. Sums (counts are sums of 1) add up over
the groups in Python; a percentile of the whole window cannot, so each percentile column is ranked twice
in the same statement (within its group and over every row) and the total's value is the smallest of the
groups' candidates. Nearest rank: the p-th percentile of n values sorted ascending is the value at rank
``⌈p·n/100⌉`` (the smallest value whose 1-based rank r has ``100·r ≥ p·n``), from ``ROW_NUMBER()`` and
``COUNT()`` windows, identical on SQLite and PostgreSQL; NULLs are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Subquery

TOTAL = ""  # the key of the whole window
NONE = "none"  # the group of rows without a value of the dimension
POINTS = (50, 90)

Figures = dict[str, Any]
Groups = dict[str, Figures]
Sums = Callable[[Any], dict[str, Any]]  # the subquery's columns → {label: expression summed over the rows}


def group_key(value: object) -> str:
    return NONE if value is None else str(value)


def _candidate(value: Any, rank: Any, n: Any, point: int) -> ColumnElement[Any]:
    return func.min(case((and_(value.is_not(None), rank * 100 >= n * point), value)))


def _ranked(source: Subquery, percentiles: Sequence[str], grouped: bool) -> Subquery:
    columns: list[Any] = list(source.c)
    for name in percentiles:
        value = source.c[name]
        nulls_last = case((value.is_(None), 1), else_=0)  # SQLite sorts NULLs first, PostgreSQL last
        order = (nulls_last, value)
        columns += [
            func.row_number().over(partition_by=source.c.g, order_by=order).label(f"{name}_rn"),
            func.count(value).over(partition_by=source.c.g).label(f"{name}_n"),
        ]
        if grouped:
            columns += [
                func.row_number().over(order_by=order).label(f"{name}_rn_all"),
                func.count(value).over().label(f"{name}_n_all"),
            ]
    return select(*columns).subquery()


def _sum(values: Iterable[Any]) -> Any:
    present = [value for value in values if value is not None]
    return sum(present) if present else None


def _min(values: Iterable[Any]) -> Any:
    present = [value for value in values if value is not None]
    return min(present) if present else None


def tally(
    session: Session,
    source: Subquery,
    sums: Sums,
    *,
    grouped: bool,
    percentiles: Sequence[str] = (),
    points: Sequence[int] = POINTS,
) -> tuple[Figures, Groups]:
    """``(totals, groups)`` of ``source`` (columns ``g`` and the measures). Labels: those of ``sums`` (SQL sums:
    NULL over no values) and ``<column>_p<point>`` per percentile column. Not ``grouped``: one row for the
    whole window (sums of no rows are NULL, ``n`` is 0 when it counts rows), no groups."""
    rows = _ranked(source, percentiles, grouped) if percentiles else source
    picks: dict[str, Any] = {label: func.sum(expression) for label, expression in sums(rows.c).items()}
    summed = list(picks)
    for name in percentiles:
        for point in points:
            value = rows.c[name]
            picks[f"{name}_p{point}"] = _candidate(value, rows.c[f"{name}_rn"], rows.c[f"{name}_n"], point)
            if grouped:
                picks[f"{name}_p{point}_all"] = _candidate(
                    value, rows.c[f"{name}_rn_all"], rows.c[f"{name}_n_all"], point
                )
    labels = list(picks)
    if not grouped:
        row = session.execute(select(*picks.values()).select_from(rows)).one()
        totals = dict(zip(labels, row, strict=True))
        if "n" in totals:
            totals["n"] = totals["n"] or 0
        return totals, {}
    statement = select(rows.c.g, *picks.values()).group_by(rows.c.g)
    found = {group_key(row[0]): dict(zip(labels, row[1:], strict=True)) for row in session.execute(statement)}
    totals = {label: _sum(figures[label] for figures in found.values()) for label in summed}
    if "n" in totals:
        totals["n"] = totals["n"] or 0
    for name in percentiles:
        for point in points:
            totals[f"{name}_p{point}"] = _min(figures.pop(f"{name}_p{point}_all") for figures in found.values())
    return totals, found


def constant_group() -> ColumnElement[str]:
    """The ``g`` of a family read without a dimension."""
    return literal(TOTAL)
