"""OpenAPI paths of the reports API (definitions of every KPI: docs/kpis.md)."""

from __future__ import annotations

from typing import Any

from griddesk.web.openapi import MAX_GRID_CHARS, error, json_body, json_content, staff, text_schema
from reports.catalogue import GROUP_BY, KPIS, TARGETABLE
from reports.scorecard import LABELS, WEIGHTS
from reports.staffing import DEFAULT_WEEKS, HOURS_OF_WEEK, MAX_WEEKS, SERVICE_LEVEL
from reports.targets import MAX_SECONDS
from reports.web import EXPORTS, MAX_DAYS

_DAY = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$", "minLength": 10, "maxLength": 10}
_VALUE: dict[str, Any] = {"type": ["number", "object", "null"]}
_KPI = {
    "type": "object",
    "properties": {
        "value": _VALUE,
        "target": {"type": ["number", "null"]},
        "op": {"type": ["string", "null"], "enum": [">=", "<=", None]},
        "met": {"type": ["boolean", "null"]},
        "label": {"type": "string"},
        "unit": {"type": "string", "enum": ["count", "rate", "seconds", "score", "breakdown"]},
    },
}
REPORT_SCHEMAS: dict[str, Any] = {
    "KpiReport": {
        "type": "object",
        "required": ["from", "to", "time_zone", "kpis", "groups"],
        "properties": {
            "grid": {"type": ["string", "null"]},
            "grids": {"type": ["array", "null"], "items": {"type": "string"}, "description": "null: every grid"},
            "from": _DAY,
            "to": _DAY,
            "time_zone": {"type": "string"},
            "group_by": {"type": ["string", "null"], "enum": [*GROUP_BY, None]},
            "kpis": {"type": "object", "properties": {kpi.name: _KPI for kpi in KPIS}},
            "groups": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "key": {"type": "string"},
                        "label": {"type": "string"},
                        "kpis": {"type": "object", "properties": {kpi.name: _VALUE for kpi in KPIS}},
                    },
                },
            },
        },
    },
}
_SCORE = {"type": ["number", "null"], "minimum": 0, "maximum": 100}
REPORT_SCHEMAS["Scorecard"] = {
    "type": "object",
    "required": ["from", "to", "weights", "labels", "agents"],
    "properties": {
        "grid": {"type": ["string", "null"]},
        "from": _DAY,
        "to": _DAY,
        "weights": {
            "type": "object",
            "properties": {name: {"type": "number", "const": w} for name, w in WEIGHTS.items()},
        },
        "labels": {
            "type": "object",
            "properties": {name: {"type": "string", "const": t} for name, t in LABELS.items()},
        },
        "first_response_target_seconds": {"type": ["number", "null"], "description": "the scope's p90 target"},
        "team_handle_time_p50_seconds": {"type": ["number", "null"], "description": "the whole scope's median"},
        "agents": {
            "type": "array",
            "description": "best total first; agents whose total is null last",
            "items": {
                "type": "object",
                "properties": {
                    "agent_id": {"type": "integer"},
                    "name": {"type": "string"},
                    "handoffs": {"type": "integer", "minimum": 0},
                    "csat_count": {"type": "integer", "minimum": 0},
                    "first_response_p90_seconds": {"type": ["number", "null"]},
                    "handle_time_p50_seconds": {"type": ["number", "null"]},
                    "csat_satisfied_share": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                    "quality": _SCORE,
                    "efficiency": _SCORE,
                    "satisfaction": _SCORE,
                    "total": _SCORE
                    | {"description": "0.4·quality + 0.3·efficiency + 0.3·satisfaction; null if any is"},
                },
            },
        },
    },
}
_COUNT = {"type": "integer", "minimum": 0}
_NUMBER = {"type": "number", "minimum": 0}
REPORT_SCHEMAS["StaffingForecast"] = {
    "type": "object",
    "required": ["grid", "weeks", "from", "to", "hours", "roster"],
    "properties": {
        "grid": {"type": "string"},
        "name": {"type": "string"},
        "time_zone": {"type": "string"},
        "weeks": {"type": "integer", "minimum": 1, "maximum": MAX_WEEKS},
        "from": _DAY | {"description": "first day of the history read (a Monday)"},
        "to": _DAY | {"description": "last day of the history read (the Sunday before this week)"},
        "handoffs": _COUNT | {"description": "handoffs to the grid in the history"},
        "handle_time_avg_seconds": _NUMBER,
        "handle_time_source": {
            "type": "string",
            "enum": ["history", "default"],
            "description": "default: no finished chat in the history, the grid's default_handling_seconds",
        },
        "wait_target_seconds": _NUMBER | {"description": "the grid's first_response_p90_seconds target"},
        "service_level": {"type": "number", "const": SERVICE_LEVEL},
        "chats_per_agent": _NUMBER | {"description": "mean max_chats of the grid's agents"},
        "short_hours": _COUNT,
        "online_now": _COUNT,
        "hours": {
            "type": "array",
            "minItems": HOURS_OF_WEEK,
            "maxItems": HOURS_OF_WEEK,
            "description": "Monday 00:00 first, Sunday 23:00 last (local time)",
            "items": {
                "type": "object",
                "properties": {
                    "hour_of_week": {"type": "integer", "minimum": 0, "maximum": HOURS_OF_WEEK - 1},
                    "weekday": {"type": "integer", "minimum": 1, "maximum": 7, "description": "ISO: 1 = Monday"},
                    "hour": {"type": "integer", "minimum": 0, "maximum": 23},
                    "handoffs": _NUMBER | {"description": "expected handoffs in the hour (average of the weeks)"},
                    "traffic_erlangs": _NUMBER,
                    "slots_needed": _COUNT | {"description": "chats at once (Erlang C servers) for the target"},
                    "agents_needed": _COUNT,
                    "agents_available": _NUMBER | {"description": "agents online in the hour, average of the weeks"},
                    "short": {"type": "boolean", "description": "agents_available < agents_needed"},
                },
            },
        },
        "roster": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "status": {"type": "string", "enum": ["online", "away", "offline"]},
                    "present": {"type": "boolean", "description": "the agent's console was seen in the last 90 s"},
                    "active_chats": _COUNT,
                    "max_chats": _COUNT,
                    "skills": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
_KPI_NAMES = ", ".join(kpi.name for kpi in KPIS)

_GRID_QUERY = {
    "name": "grid",
    "in": "query",
    "schema": text_schema(MAX_GRID_CHARS),
    "description": "a grid code; omitted: every grid the caller may see",
}
_PERIOD_QUERY: list[dict[str, Any]] = [
    _GRID_QUERY,
    {"name": "from", "in": "query", "schema": _DAY, "description": "first local day (default: the 1st of this month)"},
    {
        "name": "to",
        "in": "query",
        "schema": _DAY,
        "description": f"last local day, included (default: today); at most {MAX_DAYS} days",
    },
]
_GROUP_BY_QUERY = {"name": "group_by", "in": "query", "schema": {"type": "string", "enum": list(GROUP_BY)}}
_PERIOD_ERROR = error("invalid_parameter: a bad date, period (at most 400 days, to ≥ from) or grid")
_TARGET = {"type": ["number", "null"], "minimum": 0, "maximum": MAX_SECONDS}
_TARGETS_BODY = {
    "type": "object",
    "properties": {
        "grid": {"type": "string"},
        "name": {"type": "string"},
        "targets": {"type": "object"},
        "history": {"type": "array", "items": {"type": "object"}},
    },
}

REPORT_PATHS: dict[str, Any] = {
    "/api/v1/reports/kpis": staff(
        "get",
        "Grid KPIs of a period with targets (managers: their grids; admins: all; agents: 403). "
        f"Definitions in docs/kpis.md; names: {_KPI_NAMES}",
        {
            "200": json_content(
                "The KPIs: totals with target and met, and the groups", {"$ref": "#/components/schemas/KpiReport"}
            ),
            "400": error("invalid_parameter: a bad date, period (at most 400 days, to ≥ from), grid or group_by"),
            "404": error("not_found: no such grid"),
        },
        parameters=[*_PERIOD_QUERY, _GROUP_BY_QUERY],
    ),
    "/api/v1/reports/scorecard": staff(
        "get",
        "The agents' scorecard of the period (考评): quality 40 %, efficiency 30 %, satisfaction 30 %, each 0–100 "
        "(definitions in docs/kpis.md, Agent scorecard); managers: their grids; admins: all; agents: 403",
        {
            "200": json_content("The scorecard", {"$ref": "#/components/schemas/Scorecard"}),
            "400": _PERIOD_ERROR,
            "404": error("not_found: no such grid"),
        },
        parameters=_PERIOD_QUERY,
    ),
    "/api/v1/reports/export": staff(
        "get",
        "The report of the query as a file to download (Content-Disposition: attachment): the totals row 合计, then "
        "one row per group; Chinese headers; CSV in UTF-8 with a BOM (Excel opens it), or XLSX. Cells that would "
        "start a formula are defused. Managers: their grids; admins: all; agents: 403",
        {
            "200": {
                "description": "The file",
                "content": {
                    EXPORTS["csv"]: {"schema": {"type": "string"}},
                    EXPORTS["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
                },
            },
            "400": error(
                "invalid_parameter: a bad format, date, period (at most 400 days, to ≥ from), grid or group_by"
            ),
            "404": error("not_found: no such grid"),
        },
        parameters=[
            {
                "name": "format",
                "in": "query",
                "schema": {"type": "string", "enum": list(EXPORTS), "default": "csv"},
                "description": "csv (default) or xlsx",
            },
            *_PERIOD_QUERY,
            _GROUP_BY_QUERY,
        ],
    ),
    "/api/v1/reports/targets": staff(
        "get",
        "A grid's KPI targets and the record of their changes (managers: their grids; admins: any)",
        {
            "200": json_content("The targets", _TARGETS_BODY),
            "400": error("invalid_parameter: grid missing or too long"),
            "404": error("not_found: no such grid"),
        },
        parameters=[_GRID_QUERY | {"required": True, "description": "a grid code"}],
    ),
    "/api/v1/reports/staffing": staff(
        "get",
        "A grid's staffing forecast (智能调度): per hour of the week, the handoffs to expect (the average of the last "
        "weeks), the agents Erlang C needs to meet the grid's wait target, and the agents who were online then on "
        "average; with the grid's roster now. Definitions in docs/kpis.md, Staffing forecast. Managers: their grids; "
        "admins: any; agents: 403",
        {
            "200": json_content("The forecast", {"$ref": "#/components/schemas/StaffingForecast"}),
            "400": error("invalid_parameter: grid missing or too long, weeks not a whole number 1–26"),
            "404": error("not_found: no such grid"),
        },
        parameters=[
            _GRID_QUERY | {"required": True, "description": "a grid code"},
            {
                "name": "weeks",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_WEEKS, "default": DEFAULT_WEEKS},
                "description": "complete weeks of history before this one",
            },
        ],
    ),
    "/api/v1/reports/targets/{grid}": staff(
        "put",
        "Change some of a grid's targets (admins; each change recorded: who, when, old, new); null clears one. "
        "Rates are fractions 0–1, durations seconds.",
        {
            "200": json_content("The grid's targets after the change", _TARGETS_BODY),
            "404": error("not_found: no such grid"),
            "422": error("invalid_field: an unknown KPI, one without a direction, or a value out of range"),
        },
        parameters=[{"name": "grid", "in": "path", "required": True, "schema": text_schema(MAX_GRID_CHARS, 1)}],
        body=json_body(
            {
                "targets": {
                    "type": "object",
                    "maxProperties": len(TARGETABLE),
                    "properties": dict.fromkeys(TARGETABLE, _TARGET),
                    "additionalProperties": False,
                }
            },
            ["targets"],
        ),
    ),
}
