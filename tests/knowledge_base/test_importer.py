import io
import json
import re
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import event, func, select

from accounts.models import Role
from accounts.principals import Principal
from griddesk.db import get_engine, session_scope
from knowledge_base import history, importer
from knowledge_base.curation import base, drafts
from knowledge_base.faq_fields import derived_external_id
from knowledge_base.import_formats import ImportFileError
from knowledge_base.importer import read_file, validate_upload, write_rows
from knowledge_base.models import Faq, FaqEvent, FaqStatus, FaqVersion, Review


def write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path


def test_jsonl_rows_are_read_with_lists_and_optional_fields(tmp_path):
    path = write_jsonl(
        tmp_path / "f.jsonl",
        [
            {
                "question": "怎么开发票",
                "answer": "公众号申请",
                "similar_questions": ["如何开票", "如何开票", ""],
                "category": "发票",
                "grid": "chengdu",
                "external_id": "inv-1",
            },
            {"question": "客服电话", "answer": "400-800-1234"},
        ],
    )
    report = read_file(path)
    assert report.ok
    first, second = report.rows
    assert first.similar_questions == ("如何开票",)
    assert (first.grid, first.external_id, first.line) == ("chengdu", "inv-1", 1)
    assert second.external_id == derived_external_id("客服电话", None)
    assert second.grid is None


def test_csv_similar_questions_are_pipe_separated_and_bom_is_accepted(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(
        "\ufeffquestion,answer,similar_questions,category\n怎么开发票,公众号申请,如何开票|开票流程,发票\n".encode(
            "utf-8"
        )
    )
    report = read_file(path)
    assert report.ok
    assert report.rows[0].similar_questions == ("如何开票", "开票流程")
    assert report.rows[0].line == 2


def test_xlsx_rows_are_read_from_the_first_sheet(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["question", "answer", "similar_questions", "external_id"])
    sheet.append(["怎么开发票", "公众号申请", "如何开票|开票流程", "inv-1"])
    sheet.append([None, None, None, None])
    sheet.append(["客服电话", 4008001234, None, "tel"])
    path = tmp_path / "f.xlsx"
    workbook.save(path)
    report = read_file(path)
    assert report.ok, report.errors
    assert [r.external_id for r in report.rows] == ["inv-1", "tel"]
    assert report.rows[1].answer == "4008001234"
    assert report.rows[1].line == 4


def test_every_bad_row_is_reported_with_its_line_and_reason(tmp_path):
    path = tmp_path / "f.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"question": "好的问题", "answer": "好的答案", "external_id": "x"}),
                json.dumps({"question": "", "answer": "没有问题"}),
                json.dumps({"question": "没有答案"}),
                "{not json",
                json.dumps(["a", "list"]),
                json.dumps({"question": "重复", "answer": "a", "external_id": "x"}),
                json.dumps({"question": "q" * 501, "answer": "a"}),
                json.dumps({"question": "类型错误", "answer": {"a": 1}}),
                json.dumps({"question": "相似问题类型错误", "answer": "a", "similar_questions": 5}),
            ]
        ),
        encoding="utf-8",
    )
    report = read_file(path)
    assert not report.ok
    assert [e.line for e in report.errors] == [2, 3, 4, 5, 6, 7, 8, 9]
    reasons = [e.reason for e in report.errors]
    assert "缺少标准问题" in reasons[0] and "缺少答案" in reasons[1] and "JSON" in reasons[2]
    assert "编号与第 1 行重复" in reasons[4] and "500" in reasons[5]
    assert [e.field for e in report.errors] == ["标准问题", "答案", "", "", "编号", "标准问题", "答案", "相似问题"]
    assert str(report.errors[0]).startswith("第 2 行")


def test_gbk_file_is_rejected_with_an_encoding_hint(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes("question,answer\n怎么开发票,公众号申请\n".encode("gbk"))
    with pytest.raises(ImportFileError, match="UTF-8"):
        read_file(path)


def test_missing_columns_and_unknown_types_are_rejected(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("question,category\n怎么开发票,发票\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="answer"):
        read_file(path)
    with pytest.raises(ImportFileError, match="不支持"):
        read_file(tmp_path / "f.txt")


def test_control_characters_in_cells_are_stripped(tmp_path):
    path = write_jsonl(tmp_path / "f.jsonl", [{"question": "怎么\x07开发票", "answer": "申请\x00"}])
    row = read_file(path).rows[0]
    assert "\x07" not in row.question and "\x00" not in row.answer


def test_write_is_idempotent_and_versions_only_changed_rows(settings, tmp_path):
    path = write_jsonl(
        tmp_path / "f.jsonl",
        [
            {"question": "怎么开发票", "answer": "公众号申请", "external_id": "a"},
            {"question": "客服电话", "answer": "400", "external_id": "b"},
        ],
    )
    with session_scope() as session:
        assert write_rows(session, read_file(path).rows) == (2, 0, 0)
    with session_scope() as session:
        assert write_rows(session, read_file(path).rows) == (0, 0, 2)
    write_jsonl(
        path,
        [
            {"question": "怎么开发票", "answer": "公众号「我的账单」申请", "external_id": "a"},
            {"question": "客服电话", "answer": "400", "external_id": "b"},
            {"question": "营业时间", "answer": "8:00-22:00", "external_id": "c"},
        ],
    )
    with session_scope() as session:
        assert write_rows(session, read_file(path).rows) == (1, 1, 1)
    with session_scope() as session:
        faqs = {f.external_id: f for f in session.scalars(select(Faq))}
    assert faqs["a"].version == 2 and faqs["a"].answer == "公众号「我的账单」申请"
    assert faqs["b"].version == 1 and faqs["c"].version == 1


# --- uploads (the admin console) and versions of imported FAQs ------------------------------


def test_an_upload_over_the_size_limit_is_refused_before_reading(monkeypatch):
    assert importer.MAX_UPLOAD_BYTES == 20 * 1024 * 1024
    monkeypatch.setattr(importer, "MAX_UPLOAD_BYTES", 100)
    report = validate_upload(b"question,answer\n" + "怎么开发票,公众号申请\n".encode() * 10, "f.csv")
    assert not report.ok and report.errors[0].line == 0 and "MB" in report.errors[0].reason
    assert not report.rows


def test_file_level_problems_of_an_upload_are_the_reports_only_error():
    cases = {
        ("question,answer\n怎么开发票,公众号申请\n".encode("gbk"), "f.csv"): "GBK",
        (b"question,category\nq,c\n", "f.csv"): "answer",
        (b"question,answer\nq,a\n", "f.txt"): "不支持",
        (b"", "f.csv"): "空",
        (b"not a zip", "f.xlsx"): "XLSX",
    }
    for (data, name), words in cases.items():
        report = validate_upload(data, name)
        assert not report.ok and len(report.errors) == 1, name
        assert report.errors[0].line == 0 and words in str(report.errors[0]), (name, report.errors)
    assert (
        "UTF-8" in validate_upload("question,answer\n怎么开发票,公众号申请\n".encode("gbk"), "f.csv").errors[0].reason
    )


def test_formula_cells_are_refused_with_a_reason_and_escaped_cells_are_accepted():
    data = (
        "question,answer,similar_questions\n"
        '怎么开发票,=HYPERLINK("http://evil"),\n'
        "@SUM(1),答案,\n"
        "客服电话,-2+3+cmd|' /C calc'!A0,\n"
        "营业时间,'- 每天 8:00-22:00 (导出时转义过),\n"
        "怎么退款,- 第一步: 申请\n"
        "怎么改密码,答案,密码怎么改|+cmd|x\n"
        "热线,'=1+1,\n"
    ).encode()
    report = validate_upload(data, "f.csv")
    assert [e.line for e in report.errors] == [2, 3, 4, 7, 8]
    assert all("公式" in e.reason for e in report.errors)
    assert "答案" in report.errors[0].reason and "标准问题" in report.errors[1].reason
    assert [r.answer for r in report.rows] == ["- 每天 8:00-22:00 (导出时转义过)", "- 第一步: 申请"]


def test_a_formula_cell_in_xlsx_is_refused(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["question", "answer"])
    sheet.append(["怎么开发票", "=1+1"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = validate_upload(buffer.getvalue(), "f.xlsx")
    assert [e.line for e in report.errors] == [2] and "公式" in report.errors[0].reason


def test_duplicates_inside_the_file_are_errors_by_id_and_warnings_by_question():
    data = ("external_id,question,answer\na,怎么开发票,公众号申请\na,客服电话,400\nb,怎么开发票?,公众号申请\n").encode()
    report = validate_upload(data, "f.csv")
    assert [(e.line, "重复" in e.reason) for e in report.errors] == [(3, True)]
    assert [w.line for w in report.warnings] == [4] and "第 2 行" in report.warnings[0].reason
    assert report.as_dict()["error_count"] == 1 and report.as_dict()["rows"] == 2


def test_imported_faqs_get_a_version_and_an_event_and_changes_continue_the_numbering(settings, tmp_path):
    path = write_jsonl(
        tmp_path / "f.jsonl",
        [
            {"question": "怎么开发票", "answer": "公众号申请", "external_id": "a"},
            {"question": "客服电话", "answer": "400", "external_id": "b"},
        ],
    )
    with session_scope() as session:
        write_rows(session, read_file(path).rows)
        faq_a = session.scalar(select(Faq).where(Faq.external_id == "a"))
        assert (faq_a.published_version, faq_a.draft_version, faq_a.review) == (1, None, Review.NONE)
        admin = Principal(1, "admin", "管理员", Role.ADMIN, ())
        drafts.save_draft(
            session, faq_a.id, base.FaqDraft("怎么开发票", [], "草稿答案"), admin, expected_version=faq_a.version
        )
        faq_id = faq_a.id
    write_jsonl(
        path,
        [
            {"question": "怎么开发票", "answer": "公众号「我的账单」申请", "external_id": "a"},
            {"question": "客服电话", "answer": "400", "external_id": "b"},
        ],
    )
    with session_scope() as session:
        assert write_rows(session, read_file(path).rows) == (0, 1, 1)
    with session_scope() as session:
        views = history.history(session, faq_id)
        faq = session.get(Faq, faq_id)
        events = [e.kind for e in history.events(session, faq_id)]
        assert [(v.number, v.source) for v in views] == [(3, "import"), (2, "edit"), (1, "import")]
        assert views[0].author == "import" and views[0].is_published
        assert (faq.published_version, faq.draft_version, faq.version) == (3, 2, 3)
        assert faq.answer == "公众号「我的账单」申请"
        assert events == ["imported", "draft_saved", "imported"]
        assert session.scalar(select(func.count()).select_from(FaqVersion)) == 4


def test_new_faqs_imported_as_drafts_point_at_a_draft_version(settings, tmp_path):
    path = write_jsonl(tmp_path / "f.jsonl", [{"question": "怎么开发票", "answer": "公众号申请"}])
    with session_scope() as session:
        write_rows(session, read_file(path).rows, status=FaqStatus.DRAFT)
        faq = session.scalar(select(Faq))
        assert (faq.status, faq.draft_version, faq.published_version, faq.review) == (
            FaqStatus.DRAFT,
            1,
            None,
            Review.DRAFT,
        )
        assert session.scalar(select(FaqEvent.kind)) == "imported"


def test_writing_many_rows_takes_a_few_bulk_statements_not_one_per_row(settings):
    rows = [importer.validate_record(i, {"question": f"问题 {i}", "answer": f"答案 {i}"}) for i in range(1, 601)]
    statements: list[str] = []

    def listener(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(get_engine(), "before_cursor_execute", listener)
    try:
        with session_scope() as session:
            assert write_rows(session, rows, chunk=250) == (600, 0, 0)
        created = len(statements)
        statements.clear()
        changed = [importer.validate_record(r.line, {"question": r.question, "answer": r.answer + "!"}) for r in rows]
        with session_scope() as session:
            assert write_rows(session, changed, chunk=250) == (0, 600, 0)
    finally:
        event.remove(get_engine(), "before_cursor_execute", listener)
    assert created < 20 and len(statements) < 20
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(FaqVersion)) == 1200
        assert session.scalar(select(func.count()).select_from(FaqEvent)) == 1200
        assert session.scalar(select(func.max(Faq.published_version))) == 2


def test_report_messages_name_fields_in_chinese_and_never_show_internal_ids():
    data = (
        "question,answer,similar_questions\n"
        "怎么开发票,公众号申请,\n"
        "怎么开发票,重复的问题,\n"  # same question, no 编号: the derived id must not show
        ",没有问题,\n"
        "没有答案,,\n" + "长问题" * 200 + ",答案,\n"
    ).encode()
    report = validate_upload(data, "f.csv")
    listed = report.as_dict()["errors"]
    assert [(e["line"], e["field"]) for e in listed] == [(3, "标准问题"), (4, "标准问题"), (5, "答案"), (6, "标准问题")]
    assert "与第 2 行相同" in listed[0]["reason"]
    for error in listed:
        assert not re.search(r"q-[0-9a-f]{6}|external_id|question|answer|similar_questions", error["reason"]), error
        assert not re.search(r"[\u4e00-\u9fff][,:;?()]|[,:;?()][\u4e00-\u9fff]", error["reason"]), error


def test_columns_may_be_named_in_chinese():
    data = "标准问题,答案,相似问题,分类,适用范围,编号\n怎么开发票,公众号申请,发票怎么开|开票,发票,,inv-1\n".encode()
    report = validate_upload(data, "f.csv")
    assert report.ok, report.errors
    [row] = report.rows
    assert (row.question, row.similar_questions, row.category, row.external_id) == (
        "怎么开发票",
        ("发票怎么开", "开票"),
        "发票",
        "inv-1",
    )
    missing = validate_upload("标准问题,分类\n怎么开发票,发票\n".encode(), "f.csv").errors[0].reason
    assert missing == "缺少必需的列：答案（answer）。现在的表头是：标准问题、分类"
