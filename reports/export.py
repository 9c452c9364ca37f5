"""A report as a table (the dashboard's CSV and XLSX exports): one row for the whole window, one per group.

Columns: the group, then every KPI with its Chinese label and unit (rates in per cent, durations in seconds);
the breakdown of handoffs by reason is left out (its counts are the ``handoffs`` of a ``group_by=`` report
of its own). CSV is UTF-8 with a byte-order mark, so Excel opens the Chinese right; a cell a spreadsheet
would run as a formula (a grid or agent name starting with ``=`` …) is written with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from knowledge_base.faq_fields import looks_like_formula
from reports.catalogue import GROUP_LABELS, KPIS, Kpi, Unit

TOTAL_LABEL = "合计"
UNIT_SUFFIX = {Unit.RATE: "（%）", Unit.SECONDS: "（秒）", Unit.SCORE: "（分）", Unit.COUNT: ""}
COLUMNS: tuple[Kpi, ...] = tuple(kpi for kpi in KPIS if kpi.unit is not Unit.BREAKDOWN)


def _cell(kpi: Kpi, value: Any) -> Any:
    if value is None or not isinstance(value, int | float):
        return None
    return round(value * 100, 2) if kpi.unit is Unit.RATE else value


def _text(value: str) -> str:
    return "'" + value if looks_like_formula(value) else value


def report_table(body: dict[str, Any]) -> list[list[Any]]:
    """The rows of a report body (``reports.service.report``), the header first."""
    dimension = body.get("group_by")
    first = GROUP_LABELS.get(dimension, "范围") if dimension else "范围"
    rows: list[list[Any]] = [[first, *(kpi.label + UNIT_SUFFIX[kpi.unit] for kpi in COLUMNS)]]
    totals = body["kpis"]
    rows.append([TOTAL_LABEL, *(_cell(kpi, totals[kpi.name]["value"]) for kpi in COLUMNS)])
    for group in body.get("groups", []):
        rows.append([_text(str(group["label"])), *(_cell(kpi, group["kpis"].get(kpi.name)) for kpi in COLUMNS)])
    return rows


def to_csv(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: list[list[Any]], title: str) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
