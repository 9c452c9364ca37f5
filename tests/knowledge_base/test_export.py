"""Exporting the knowledge base in the import format; re-importing the export changes nothing."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from griddesk.db import session_scope
from knowledge_base.__main__ import main
from knowledge_base.curation.base import FaqDraft
from knowledge_base.curation.drafts import create_faq
from knowledge_base.curation.review import archive, publish
from knowledge_base.export import ExportFormatError, export_faqs
from knowledge_base.faq_fields import COLUMNS
from knowledge_base.importer import validate_upload, write_rows
from knowledge_base.models import Faq, FaqVersion
from tests.factories import make_demo_faqs

TRICKY = FaqDraft(
    "武侯营业厅在哪",
    ["营业厅地址", '网点, "位置"'],
    "- 第一步: 打开 App\n- 第二步: 点「网点」\n+86 28 8888 8888",
    "网点",
    "cd-wuhou",
)


def fill(session) -> None:
    make_demo_faqs(session)
    publish(session, create_faq(session, TRICKY, "system").id, "system")
    create_faq(session, FaqDraft("草稿问题", [], "草稿答案"), "system")
    gone = create_faq(session, FaqDraft("下架问题", [], "下架答案"), "system")
    publish(session, gone.id, "system")
    archive(session, gone.id, "system")


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl"])
def test_the_export_re_imports_unchanged(settings, fmt):
    with session_scope() as session:
        fill(session)
    with session_scope() as session:
        data = export_faqs(session, fmt)
        versions = session.scalar(select(func.count()).select_from(FaqVersion))
    report = validate_upload(data, f"faqs.{fmt}")
    assert report.ok, report.errors
    assert len(report.rows) == 7  # the archived FAQ is left out
    with session_scope() as session:
        assert write_rows(session, report.rows) == (0, 0, 7)
        assert session.scalar(select(func.count()).select_from(FaqVersion)) == versions
        tricky = session.scalar(select(Faq).where(Faq.question == TRICKY.question))
        assert (tricky.answer, tricky.similar_questions, tricky.grid) == (
            TRICKY.answer,
            TRICKY.similar_questions,
            "cd-wuhou",
        )


def test_csv_has_a_bom_the_import_columns_and_escaped_formula_like_cells(settings):
    with session_scope() as session:
        fill(session)
        data = export_faqs(session, "csv")
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == COLUMNS
    tricky = next(r for r in rows if r[1] == TRICKY.question)
    assert tricky[3].startswith("'- 第一步") and tricky[2] == '营业厅地址|网点, "位置"'


def test_xlsx_cells_never_hold_formulas(settings):
    with session_scope() as session:
        create_faq(session, FaqDraft("电话", [], "+86 28 8888 8888"), "system")
        data = export_faqs(session, "xlsx")
    sheet = load_workbook(io.BytesIO(data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert tuple(values[0]) == COLUMNS
    assert values[1][3] == "'+86 28 8888 8888"
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_jsonl_keeps_lists_and_null_grids(settings):
    with session_scope() as session:
        make_demo_faqs(session)
        lines = export_faqs(session, "jsonl").decode().splitlines()
    first = json.loads(lines[0])
    assert first["similar_questions"] == ["客服几点上班", "营业时间是什么时候", "晚上有人值班吗"]
    assert first["grid"] is None and list(first) == list(COLUMNS)


def test_an_unknown_format_is_refused(settings):
    with session_scope() as session, pytest.raises(ExportFormatError):
        export_faqs(session, "pdf")


def test_the_command_line_exports_by_file_suffix(settings, tmp_path: Path, capsys):
    with session_scope() as session:
        make_demo_faqs(session)
    assert main(["export", str(tmp_path / "kb.csv")]) == 0
    assert "导出完成" in capsys.readouterr().out
    assert validate_upload((tmp_path / "kb.csv").read_bytes(), "kb.csv").ok
    assert main(["export", str(tmp_path / "kb.txt")]) == 2
    assert "不支持" in capsys.readouterr().err
