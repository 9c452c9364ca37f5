"""The reports API and pages: ``GET /api/v1/reports/kpis``, ``…/scorecard``, ``…/export`` (grid managers: their
grids; admins: every grid), the targets, and the dashboard ``/console/reports`` with its printable monthly report
``/console/reports/monthly`` (pages composed from ``static/reports-page.html``; Apache ECharts vendored in
``static/vendor/echarts``).

Query: ``grid`` (a grid code; omitted: every grid the caller may see), ``from`` and ``to`` (local calendar days
``YYYY-MM-DD``, both included; default: this month up to today), ``group_by`` (day · week · month · grid · agent ·
category · channel). Every bad value is a 400 with a Chinese message naming the parameter.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from accounts.actors import actor_for_account
from accounts.models import Role
from accounts.principals import Principal
from accounts.web import require_role
from griddesk.db import run_in_session, utcnow
from griddesk.web.errors import ApiError
from griddesk.web.json import json_response, read_json_object
from griddesk.web.pages import add_static, compose, composed_page
from griddesk.web.params import bad_parameter, query_text
from grids.models import Grid
from grids.sla import SERVICE_TZ
from reports.catalogue import BY_NAME, GROUP_BY, TARGETABLE
from reports.export import report_table, to_csv, to_xlsx
from reports.scorecard import scorecard
from reports.service import report
from reports.targets import grid_targets, scope_targets, set_targets, target_history

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


async def _report(request: web.Request, grouping: str | None) -> dict[str, Any]:
    """The report the query asks for, of the grids the caller may see (the body of ``GET …/kpis``)."""
    principal = await reader(request)
    now = utcnow()
    first, last = period(request, now)
    grid = grid_param(request)

    def work(session: Session) -> dict[str, Any]:
        grids = scope(session, principal, grid)
        body = report(session, grids, first, last, grouping, now, scope_targets(session, grids))
        return {"grid": grid, **body}

    return await run_in_session(work)


async def get_kpis(request: web.Request) -> web.Response:
    return json_response(await _report(request, group_by(request)))


async def get_scorecard(request: web.Request) -> web.Response:
    """The agents' scorecard of the period (reports.scorecard): quality 40 %, efficiency 30 %, satisfaction 30 %."""
    body = await _report(request, "agent")
    return json_response({"grid": body["grid"], "from": body["from"], "to": body["to"]} | scorecard(body))


EXPORTS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


async def get_export(request: web.Request) -> web.Response:
    """The report of the query as a file: ``format=csv`` (UTF-8 with BOM) or ``xlsx``; the same parameters."""
    fmt = request.query.get("format", "csv").strip().lower()
    if fmt not in EXPORTS:
        raise bad_parameter("format", "导出格式（format）", "必须是 csv 或 xlsx")
    body = await _report(request, group_by(request))
    rows = report_table(body)
    title = f"网格报表 {body['from']} 至 {body['to']}"
    data = to_csv(rows) if fmt == "csv" else to_xlsx(rows, title)
    name = f"grid-report-{body['grid'] or 'all'}-{body['from']}-{body['to']}"
    if body["group_by"]:
        name += f"-by-{body['group_by']}"
    return web.Response(
        body=data,
        headers={
            "Content-Type": EXPORTS[fmt],
            "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


def targets_body(session: Session, grid: Grid) -> dict[str, Any]:
    values = grid_targets(session, grid)
    return {
        "grid": grid.code,
        "name": grid.name,
        "targets": {
            name: {
                "value": values.get(name),
                "op": BY_NAME[name].op,
                "label": BY_NAME[name].label,
                "unit": BY_NAME[name].unit.value,
            }
            for name in TARGETABLE
        },
        "history": [
            {
                "kpi": event.kpi,
                "old_value": event.old_value,
                "new_value": event.new_value,
                "actor": event.actor,
                "at": event.at.isoformat(),
            }
            for event in target_history(session, grid.code)
        ],
    }


def _grid_of(session: Session, principal: Principal, code: str) -> Grid:
    scope(session, principal, code)  # 403 not theirs, 404 no such grid
    grid = session.get(Grid, code)
    assert grid is not None  # scope() checked it exists
    return grid


async def get_targets(request: web.Request) -> web.Response:
    """A grid's targets and the record of their changes (managers: their grids; admins: any)."""
    principal = await reader(request)
    code = grid_param(request)
    if code is None:
        raise bad_parameter("grid", "网格（grid）", "请指定网格")
    return json_response(
        await run_in_session(lambda session: targets_body(session, _grid_of(session, principal, code)))
    )


async def put_targets(request: web.Request) -> web.Response:
    """Admins change some of a grid's targets: ``{"targets": {"<kpi>": <number or null>, …}}``."""
    principal = await require_role(request, Role.ADMIN)
    code = request.match_info["grid"]
    if len(code) > MAX_GRID_CHARS:
        raise ApiError(404, "not_found", "找不到该网格。")
    body = await read_json_object(request, 16 * 1024, allowed=("targets",), empty_ok=False)
    changes = body.get("targets")
    if not isinstance(changes, dict):
        raise ApiError(422, "invalid_field", "targets 必须是「指标名：目标值」的对象。", field="targets")

    def work(session: Session) -> dict[str, Any]:
        set_targets(session, code, changes, actor_for_account(principal.account_id), utcnow())
        grid = session.get(Grid, code)
        assert grid is not None
        return targets_body(session, grid)

    return json_response(await run_in_session(work))


STATIC = Path(__file__).resolve().parent / "static"
SKELETON = STATIC / "reports-page.html"
PAGES = {  # URL → (title, page name: static/<name>.main.html + static/<name>.js)
    "/console/reports": ("数据报表", "reports"),
    "/console/reports/monthly": ("网格月报", "monthly"),
}
SCRIPTS = ["/static/reports/vendor/echarts/echarts.min.js", "/static/reports/reports-common.js"]


def compose_page(url: str) -> str:
    title, name = PAGES[url]
    return compose(
        SKELETON,
        title=title,
        main=STATIC / f"{name}.main.html",
        scripts=[*SCRIPTS, f"/static/reports/{name}.js"],
        current=url,
    )


def add_routes(app: web.Application) -> None:
    for url in PAGES:
        app.router.add_get(url, composed_page(compose_page(url)))
    add_static(app, "reports", STATIC)
    app.router.add_get("/api/v1/reports/export", get_export)
    app.router.add_get("/api/v1/reports/scorecard", get_scorecard)
    app.router.add_get("/api/v1/reports/kpis", get_kpis)
    app.router.add_get("/api/v1/reports/targets", get_targets)
    app.router.add_put("/api/v1/reports/targets/{grid}", put_targets)
