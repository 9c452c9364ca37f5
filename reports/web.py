"""The reports API: ``GET /api/v1/reports/kpis`` (grid managers: their grids; admins: every grid).

Query: ``grid`` (a grid code; omitted: every grid the caller may see), ``from`` and ``to`` (local calendar days
``YYYY-MM-DD``, both included; default: this month up to today), ``group_by`` (day · week · month · grid · agent ·
category · channel). Every bad value is a 400 with a Chinese message naming the parameter.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from accounts.models import Role
from accounts.principals import Principal
from accounts.web import require_role
from griddesk.db import run_in_session, utcnow
from griddesk.web.errors import ApiError
from griddesk.web.json import json_response
from griddesk.web.params import bad_parameter, query_text
from grids.models import Grid
from grids.sla import SERVICE_TZ
from reports.catalogue import GROUP_BY
from reports.service import report

MAX_DAYS = 400
MAX_GRID_CHARS = 64


async def reader(request: web.Request) -> Principal:
    """Grid managers and admins; agents are refused (403)."""
    return await require_role(request, Role.MANAGER, Role.ADMIN)


def _day(request: web.Request, name: str, label: str, default: date) -> date:
    raw = request.query.get(name, "").strip()
    if not raw:
        return default
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise bad_parameter(name, label, "必须是 YYYY-MM-DD 格式的有效日期，例如 2026-03-01") from None


def period(request: web.Request, now: datetime) -> tuple[date, date]:
    """``from`` and ``to``: at most MAX_DAYS local days, ``to`` not before ``from``."""
    today = now.astimezone(SERVICE_TZ).date()
    first = _day(request, "from", "开始日期（from）", today.replace(day=1))
    last = _day(request, "to", "结束日期（to）", max(today, first))
    if last < first:
        raise bad_parameter("to", "结束日期（to）", "不能早于开始日期")
    if (last - first).days + 1 > MAX_DAYS:
        raise bad_parameter("to", "结束日期（to）", f"查询范围最长 {MAX_DAYS} 天")
    return first, last


def group_by(request: web.Request) -> str | None:
    raw = request.query.get("group_by", "").strip()
    if not raw:
        return None
    if raw not in GROUP_BY:
        raise bad_parameter("group_by", "分组方式（group_by）", "必须是 " + "、".join(GROUP_BY) + " 之一")
    return raw


def scope(session: Session, principal: Principal, grid: str | None) -> list[str] | None:
    """The grids of the report: the one asked for, if the caller may see it, or all the caller may see
    (None = every grid, for admins)."""
    if grid is None:
        return None if principal.role is Role.ADMIN else sorted(principal.grid_codes)
    if principal.role is not Role.ADMIN and grid not in principal.grid_codes:
        raise ApiError(403, "forbidden", "这个网格不属于您，不能查看它的报表。", field="grid")
    if session.get(Grid, grid) is None:
        raise ApiError(404, "not_found", f"找不到网格「{grid}」。", field="grid")
    return [grid]


def grid_param(request: web.Request) -> str | None:
    return query_text(request, "grid", "网格（grid）", max_chars=MAX_GRID_CHARS)


async def get_kpis(request: web.Request) -> web.Response:
    principal = await reader(request)
    now = utcnow()
    first, last = period(request, now)
    grouping = group_by(request)
    grid = grid_param(request)

    def work(session: Session) -> dict[str, Any]:
        grids = scope(session, principal, grid)
        body = report(session, grids, first, last, grouping, now)
        return {"grid": grid, **body}

    return json_response(await run_in_session(work))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/reports/kpis", get_kpis)
