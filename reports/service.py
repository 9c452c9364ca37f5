"""A report: the KPIs of a window for a set of grids, with their labels (no HTTP here).

``report`` returns the JSON-ready body of ``GET /api/v1/reports/kpis``: totals with each KPI's label, unit,
target and whether the target is met, and the groups of ``group_by`` with plain values. In the groups, a count
of a KPI family that has the dimension is 0 where the group has none of its rows (the channel ``api`` opened
tickets but had no conversations: 0 conversations); a family without the dimension stays null (conversations
have no category).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Account
from conversations.labels import CHANNEL_LABELS
from grids.models import Grid
from grids.sla import SERVICE_TZ
from reports.catalogue import KPIS, Better, Unit
from reports.kpis import NONE, compute_all, window_of
from tickets.labels import CATEGORY_LABELS
from tickets.models import Category

NONE_LABEL = "未指定"


def met(value: Any, target: float | None, better: Better | None) -> bool | None:
    """Whether ``value`` reaches ``target`` in the KPI's direction (None when either is unknown)."""
    if value is None or target is None or better is None or not isinstance(value, int | float):
        return None
    return value >= target if better is Better.HIGHER else value <= target


def _labels(session: Session, group_by: str | None, keys: Sequence[str]) -> dict[str, str]:
    if group_by == "grid":
        return dict(session.execute(select(Grid.code, Grid.name)).all())
    if group_by == "agent":
        ids = [int(key) for key in keys if key.isdigit()]
        rows = session.execute(select(Account.id, Account.display_name).where(Account.id.in_(ids)))
        return {str(account_id): name for account_id, name in rows}
    if group_by == "category":
        return {str(category): label for category, label in CATEGORY_LABELS.items()} | _skill_labels()
    if group_by == "channel":
        return dict(CHANNEL_LABELS) | {"api": "接口"}
    return {}


def _skill_labels() -> dict[str, str]:
    """Handoffs carry the bot's service category (``handoff.skill``): the ticket categories' names where they match."""
    return {category.value: CATEGORY_LABELS[category] for category in Category}


def report(
    session: Session,
    grids: Sequence[str] | None,
    first_day: date,
    last_day: date,
    group_by: str | None,
    now: datetime,
    targets: dict[str, float | None] | None = None,
) -> dict[str, Any]:
    """The KPIs of the local days ``first_day``–``last_day`` for ``grids`` (None = every grid)."""
    window = window_of(first_day, last_day, grids, now)
    totals, groups = compute_all(session, window, group_by)  # one read per family gives both
    targets = targets or {}
    kpis: dict[str, Any] = {}
    for kpi in KPIS:
        value = totals.get(kpi.name)
        target = targets.get(kpi.name)
        kpis[kpi.name] = {
            "value": value,
            "target": target,
            "op": kpi.op,
            "met": met(value, target, kpi.better),
            "label": kpi.label,
            "unit": kpi.unit.value,
        }
    body: dict[str, Any] = {
        "grids": None if grids is None else list(grids),
        "from": first_day.isoformat(),
        "to": last_day.isoformat(),
        "time_zone": SERVICE_TZ.key,
        "group_by": group_by,
        "kpis": kpis,
        "groups": [],
    }
    if group_by is not None:
        keys = sorted(groups, key=lambda key: (key == NONE, key))
        labels = _labels(session, group_by, keys)
        body["groups"] = [
            {
                "key": key,
                "label": NONE_LABEL if key == NONE else labels.get(key, key),
                "kpis": {kpi.name: groups[key].get(kpi.name) for kpi in KPIS},
            }
            for key in keys
        ]
        _zero_counts(body["groups"])
    return body


def _zero_counts(groups: list[dict[str, Any]]) -> None:
    """Counts missing from some groups only are 0 there: their family has the dimension (it gave some group a
    value) but no row in those groups. A family without the dimension gives no group a value."""
    for kpi in KPIS:
        if kpi.unit is Unit.COUNT and any(group["kpis"][kpi.name] is not None for group in groups):
            for group in groups:
                if group["kpis"][kpi.name] is None:
                    group["kpis"][kpi.name] = 0
