"""OpenAPI paths of the reports API (definitions of every KPI: docs/kpis.md)."""

from __future__ import annotations

from typing import Any

from griddesk.web.openapi import MAX_GRID_CHARS, error, json_body, json_content, staff, text_schema
from reports.catalogue import GROUP_BY, KPIS, TARGETABLE
from reports.targets import MAX_SECONDS
from reports.web import MAX_DAYS

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
_KPI_NAMES = ", ".join(kpi.name for kpi in KPIS)

_GRID_QUERY = {
    "name": "grid",
    "in": "query",
    "schema": text_schema(MAX_GRID_CHARS),
    "description": "a grid code; omitted: every grid the caller may see",
}
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
        parameters=[
            {
                "name": "grid",
                "in": "query",
                "schema": text_schema(MAX_GRID_CHARS),
                "description": "a grid code; omitted: every grid the caller may see",
            },
            {
                "name": "from",
                "in": "query",
                "schema": _DAY,
                "description": "first local day (default: the 1st of this month)",
            },
            {
                "name": "to",
                "in": "query",
                "schema": _DAY,
                "description": f"last local day, included (default: today); at most {MAX_DAYS} days",
            },
            {"name": "group_by", "in": "query", "schema": {"type": "string", "enum": list(GROUP_BY)}},
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
