"""One read of a KPI family's rows gives its totals and its groups: sums and nearest-rank percentiles.

``tally`` takes a subquery with a group column ``g`` and the family's measures and returns the totals of the
window and the figures of each group. The database sums per group (``GROUP BY g``; counts are sums of 1) and
Python adds the groups up for the totals. A percentile of the whole window is not made of the groups', and
ranking inside SQL costs a sort per column and per grouping (``ROW_NUMBER()`` windows: about five times the
time on SQLite), so a family with percentiles reads its rows' group and durations in a second statement and
Python ranks them: nearest rank, the p-th percentile of n values sorted ascending is the value at rank
``⌈p·n/100⌉`` (the same figure as ``percentile_disc``); NULLs are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import func, select
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


def nearest_rank(values: list[float], point: int) -> float | None:
    """The ``point``-th percentile of ``values`` (sorted ascending), nearest rank; None for no values."""
    if not values:
        return None
    return values[-(-point * len(values) // 100) - 1]


def _sum(values: Iterable[Any]) -> Any:
    present = [value for value in values if value is not None]
    return sum(present) if present else None


def tally(
    session: Session,
    source: Subquery,
    sums: Sums,
    *,
    grouped: bool,
    percentiles: Sequence[str] = (),
    points: Sequence[int] = POINTS,
) -> tuple[Figures, Groups]:
    """``(totals, groups)`` of ``source`` (columns ``g`` and the measures). Labels: those of ``sums`` (sums over
    no values are None) and ``<column>_p<point>`` per percentile column. Not ``grouped``: the whole window
    only (``n`` is 0 when it counts no rows), no groups."""
    totals, groups = _summed(session, source, sums(source.c), grouped)
    if percentiles:
        ranked_totals, ranked_groups = _ranked(session, source, percentiles, points, grouped)
        totals |= ranked_totals
        for key, figures in groups.items():
            figures |= ranked_groups.get(key) or dict.fromkeys(ranked_totals)
    return totals, groups


def _summed(session: Session, source: Subquery, expressions: dict[str, Any], grouped: bool) -> tuple[Figures, Groups]:
    labels = list(expressions)
    picks = [func.sum(expression) for expression in expressions.values()]
    if not grouped:
        row = session.execute(select(*picks).select_from(source)).one()
        return _counted(dict(zip(labels, row, strict=True))), {}
    statement = select(source.c.g, *picks).group_by(source.c.g)
    found = {group_key(row[0]): dict(zip(labels, row[1:], strict=True)) for row in session.execute(statement)}
    return _counted({label: _sum(figures[label] for figures in found.values()) for label in labels}), found


def _counted(totals: Figures) -> Figures:
    if "n" in totals:
        totals["n"] = totals["n"] or 0
    return totals


def _ranked(
    session: Session, source: Subquery, percentiles: Sequence[str], points: Sequence[int], grouped: bool
) -> tuple[Figures, Groups]:
    """The percentiles of the whole window and of each group, ranked in Python from the rows' values."""
    statement = select(source.c.g, *(source.c[name] for name in percentiles))
    rows = session.connection().execute(statement).all()  # plain rows: no ORM loading for thousands of them

    def ranks(part: Sequence[Any]) -> Figures:
        columns = list(zip(*part, strict=True))[1:] if part else [()] * len(percentiles)
        out: Figures = {}
        for name, column in zip(percentiles, columns, strict=True):
            found = sorted(value for value in column if value is not None)
            out |= {f"{name}_p{point}": nearest_rank(found, point) for point in points}
        return out

    if not grouped:
        return ranks(rows), {}
    parts: dict[str, list[Any]] = {}
    for row in rows:
        parts.setdefault(group_key(row[0]), []).append(row)
    return ranks(rows), {key: ranks(part) for key, part in parts.items()}
