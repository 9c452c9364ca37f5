"""Export the knowledge base in the import format (.jsonl, .csv, .xlsx): re-importing the file changes
nothing. CSV is UTF-8 with a BOM (Excel opens it correctly); in CSV and XLSX, a cell a spreadsheet
would run as a formula gets a leading ``'`` (the importer removes it again)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge_base.faq_fields import COLUMNS, SIMILAR_SEPARATOR
from knowledge_base.models import Faq, FaqStatus

Format = Literal["jsonl", "csv", "xlsx"]
FORMATS: dict[str, str] = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class ExportFormatError(ValueError):
    """An unknown export format."""


def _records(session: Session, include_archived: bool) -> Iterator[dict[str, object]]:
    stmt = select(Faq).order_by(Faq.id).execution_options(yield_per=2000)
    if not include_archived:
        stmt = stmt.where(Faq.status != FaqStatus.ARCHIVED)
    for faq in session.scalars(stmt):
        yield {
            "external_id": faq.external_id,
            "question": faq.question,
            "similar_questions": list(faq.similar_questions or []),
            "answer": faq.answer,
            "category": faq.category,
            "grid": faq.grid,
        }


def escape_cell(value: str) -> str:
    """Prefix ``'`` to a text a spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@``)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _cells(record: dict[str, object]) -> list[str]:
    out = []
    for name in COLUMNS:
        value = record[name]
        if isinstance(value, list):
            text = SIMILAR_SEPARATOR.join(value)
        else:
            text = "" if value is None else str(value)
        out.append(escape_cell(text))
    return out


def _jsonl(records: Iterator[dict[str, object]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


def _csv(records: Iterator[dict[str, object]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for record in records:
        writer.writerow(_cells(record))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx(records: Iterator[dict[str, object]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("FAQ")
    sheet.append(list(COLUMNS))
    for record in records:
        sheet.append(_cells(record))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_faqs(session: Session, fmt: Format | str, include_archived: bool = False) -> bytes:
    """The whole knowledge base (archived FAQs only when asked) as the bytes of a file of ``fmt``.

    Each FAQ as customers (or, for a never-published draft, curators) see it now; pending drafts of
    published FAQs are not included."""
    fmt = fmt.lower().lstrip(".")
    writers = {"jsonl": _jsonl, "csv": _csv, "xlsx": _xlsx}
    if fmt not in writers:
        raise ExportFormatError(f"不支持的导出格式「{fmt}」：请使用 jsonl、csv 或 xlsx")
    return writers[fmt](_records(session, include_archived))
