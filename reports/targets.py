"""Each grid's KPI targets: defaults from the source documents, stored per grid, changed by admins (audited).

Defaults (docs/kpis.md "Targets"): 满意度 ≥ 90 %; the chat's first response within the grid's
``first_response_seconds`` (1 minute; 30 s for key accounts); a ticket's response within the grid's
``response_minutes`` (30 minutes); each service-flow step on time 95 % of the time; one-time resolution 90 %.
A grid without stored rows gets the defaults; ``seed_targets`` stores them so admins see and change them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from griddesk.errors import DomainError, InvalidInput
from grids.models import Grid
from reports.catalogue import BY_NAME, TARGETABLE, Better, Kpi, Unit
from reports.models import ReportTarget, ReportTargetEvent

MAX_SECONDS = 30 * 24 * 3600  # a duration target of at most 30 days


class GridNotFound(DomainError):
    code = "not_found"


def default_targets(grid: Grid) -> dict[str, float]:
    """The documents' figures, with the grid's own service levels where the documents name a time."""
    chat = grid.handoff_policy().first_response_seconds
    ticket = grid.policy().response_minutes * 60
    return {
        "csat_satisfied_share": 0.9,  # 提高客户满意度至90%以上
        "first_response_p90_seconds": float(chat),  # 在线客服接到客户咨询后，需在1分钟内做出响应
        "ticket_response_p90_seconds": float(ticket),  # 减少服务响应时间至30分钟以内
        "sla_compliance_rate": 0.95,
        "sla_compliance_rate_accepted": 0.95,
        "sla_compliance_rate_analysing": 0.95,
        "sla_compliance_rate_in_progress": 0.95,
        "first_contact_resolution_rate": 0.9,
        "complaint_one_time_resolution_rate": 0.9,
    }


def grid_targets(session: Session, grid: Grid) -> dict[str, float | None]:
    """The grid's targets: its stored rows, else the defaults."""
    stored = {
        row.kpi: row.value for row in session.scalars(select(ReportTarget).where(ReportTarget.grid_code == grid.code))
    }
    return stored if stored else dict(default_targets(grid))


def scope_targets(session: Session, grids: Sequence[str] | None) -> dict[str, float | None]:
    """The targets of a report over several grids: for each KPI the strictest of the grids' targets."""
    query = select(Grid).order_by(Grid.code)
    if grids is not None:
        query = query.where(Grid.code.in_(grids))
    combined: dict[str, float | None] = {}
    for grid in session.scalars(query):
        for name, value in grid_targets(session, grid).items():
            if value is None or name not in BY_NAME:
                continue
            better = BY_NAME[name].better
            current = combined.get(name)
            if current is None:
                combined[name] = value
            else:
                combined[name] = max(current, value) if better is Better.HIGHER else min(current, value)
    return combined


def seed_targets(session: Session) -> int:
    """Store the default targets of every grid that has none yet; how many grids were seeded."""
    seeded = 0
    have = set(session.scalars(select(ReportTarget.grid_code).distinct()))
    for grid in session.scalars(select(Grid).order_by(Grid.code)):
        if grid.code in have:
            continue
        session.add_all(
            ReportTarget(grid_code=grid.code, kpi=name, value=value) for name, value in default_targets(grid).items()
        )
        seeded += 1
    session.flush()
    return seeded


def check_target(kpi: Kpi, raw: object) -> float | None:
    """A target value for ``kpi`` (None clears it); InvalidInput with a Chinese message names the KPI."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != raw:
        raise InvalidInput(f"「{kpi.label}」的目标值必须是数字或 null。", field=kpi.name)
    value = float(raw)
    if kpi.unit is Unit.RATE and not 0 <= value <= 1:
        raise InvalidInput(f"「{kpi.label}」是比率，目标值必须在 0 到 1 之间（0.9 表示 90%）。", field=kpi.name)
    if kpi.unit is Unit.SECONDS and not 0 <= value <= MAX_SECONDS:
        raise InvalidInput(f"「{kpi.label}」的目标值必须在 0 到 {MAX_SECONDS} 秒之间。", field=kpi.name)
    if kpi.unit is Unit.SCORE and not 1 <= value <= 5:
        raise InvalidInput(f"「{kpi.label}」的目标值必须在 1 到 5 分之间。", field=kpi.name)
    return value


def set_targets(
    session: Session, grid_code: str, changes: Mapping[str, object], actor: str, now: datetime
) -> dict[str, float | None]:
    """Change some of a grid's targets (each change recorded: who, when, old, new); the grid's targets after."""
    grid = session.get(Grid, grid_code)
    if grid is None:
        raise GridNotFound(f"找不到网格「{grid_code}」。", field="grid")
    if not changes:
        raise InvalidInput("请至少修改一个指标的目标值。", field="targets")
    checked: dict[str, float | None] = {}
    for name, raw in changes.items():
        if name not in TARGETABLE:
            raise InvalidInput(f"指标「{name[:64]}」不存在或不能设置目标。", field="targets")
        checked[name] = check_target(BY_NAME[name], raw)
    current = grid_targets(session, grid)
    if not session.scalar(select(ReportTarget.kpi).where(ReportTarget.grid_code == grid_code).limit(1)):
        # the grid ran on the defaults: store them first, so the change is recorded against what was in force
        session.add_all(ReportTarget(grid_code=grid_code, kpi=name, value=value) for name, value in current.items())
        session.flush()
    for name, value in checked.items():
        old = current.get(name)
        row = session.get(ReportTarget, (grid_code, name))
        if row is None:
            row = ReportTarget(grid_code=grid_code, kpi=name)
            session.add(row)
        row.value, row.updated_by, row.updated_at = value, actor, now
        if old != value:
            session.add(
                ReportTargetEvent(grid_code=grid_code, kpi=name, old_value=old, new_value=value, actor=actor, at=now)
            )
    session.flush()
    return grid_targets(session, grid)


def target_history(session: Session, grid_code: str, limit: int = 50) -> list[ReportTargetEvent]:
    return list(
        session.scalars(
            select(ReportTargetEvent)
            .where(ReportTargetEvent.grid_code == grid_code)
            .order_by(ReportTargetEvent.id.desc())
            .limit(limit)
        )
    )
