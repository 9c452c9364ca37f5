import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from griddesk.db import session_scope
from knowledge_base.importer import ImportFileError, derived_external_id, read_file, write_rows
from knowledge_base.models import Faq


def write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path


def test_jsonl_rows_are_read_with_lists_and_optional_fields(tmp_path):
    path = write_jsonl(tmp_path / "f.jsonl", [
        {"question": "怎么开发票", "answer": "公众号申请", "similar_questions": ["如何开票", "如何开票", ""],
         "category": "发票", "grid": "chengdu", "external_id": "inv-1"},
        {"question": "客服电话", "answer": "400-800-1234"},
    ])
    report = read_file(path)
    assert report.ok
    first, second = report.rows
    assert first.similar_questions == ("如何开票",)
    assert (first.grid, first.external_id, first.line) == ("chengdu", "inv-1", 1)
    assert second.external_id == derived_external_id("客服电话", None)
    assert second.grid is None


def test_csv_similar_questions_are_pipe_separated_and_bom_is_accepted(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes("\ufeffquestion,answer,similar_questions,category\n怎么开发票,公众号申请,如何开票|开票流程,发票\n"
                     .encode("utf-8"))
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
    path.write_text("\n".join([
        json.dumps({"question": "好的问题", "answer": "好的答案", "external_id": "x"}),
        json.dumps({"question": "", "answer": "没有问题"}),
        json.dumps({"question": "没有答案"}),
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"question": "重复", "answer": "a", "external_id": "x"}),
        json.dumps({"question": "q" * 501, "answer": "a"}),
        json.dumps({"question": "类型错误", "answer": {"a": 1}}),
        json.dumps({"question": "相似问题类型错误", "answer": "a", "similar_questions": 5}),
    ]), encoding="utf-8")
    report = read_file(path)
    assert not report.ok
    assert [e.line for e in report.errors] == [2, 3, 4, 5, 6, 7, 8, 9]
    reasons = [e.reason for e in report.errors]
    assert "缺少问题" in reasons[0] and "缺少答案" in reasons[1] and "JSON" in reasons[2]
    assert "第 1 行重复" in reasons[4] and "500" in reasons[5]
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
    path = write_jsonl(tmp_path / "f.jsonl", [
        {"question": "怎么开发票", "answer": "公众号申请", "external_id": "a"},
        {"question": "客服电话", "answer": "400", "external_id": "b"},
    ])
    with session_scope() as session:
        assert write_rows(session, read_file(path).rows) == (2, 0, 0)
    with session_scope() as session:
        assert write_rows(session, read_file(path).rows) == (0, 0, 2)
    write_jsonl(path, [
        {"question": "怎么开发票", "answer": "公众号「我的账单」申请", "external_id": "a"},
        {"question": "客服电话", "answer": "400", "external_id": "b"},
        {"question": "营业时间", "answer": "8:00-22:00", "external_id": "c"},
    ])
    with session_scope() as session:
        assert write_rows(session, read_file(path).rows) == (1, 1, 1)
    with session_scope() as session:
        faqs = {f.external_id: f for f in session.scalars(select(Faq))}
    assert faqs["a"].version == 2 and faqs["a"].answer == "公众号「我的账单」申请"
    assert faqs["b"].version == 1 and faqs["c"].version == 1
