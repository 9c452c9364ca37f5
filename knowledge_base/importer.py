"""Import FAQs from .jsonl, .csv or .xlsx: validate every row, then write all or nothing.

Fields: ``question`` (required), ``answer`` (required), ``similar_questions`` (a list; in CSV and
XLSX a ``|``-separated cell), ``category``, ``grid``, ``external_id``. Re-importing a file is
idempotent: rows are matched on ``external_id`` (derived from the question and grid when absent)
and only changed FAQs get a new version (a :class:`FaqVersion` with source ``import`` and an event).

Cells that a spreadsheet would run as a formula (``=…``, ``+…``, ``-…``, ``@…``) are refused; a
leading ``'`` before such a character (how :mod:`knowledge_base.export` escapes them) is removed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from griddesk.db import utcnow
from knowledge_base.models import Faq, FaqEvent, FaqStatus, FaqVersion, Review
from griddesk.text import normalize, strip_control

FIELDS = ("question", "answer", "similar_questions", "category", "grid", "external_id")
# the order of the columns in exported files (the importer accepts any order)
COLUMNS = ("external_id", "question", "similar_questions", "answer", "category", "grid")
MAX_FILE_BYTES = 200 * 1024 * 1024  # command line
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # files uploaded in the admin console
LIMITS = {"question": 500, "answer": 5000, "category": 64, "grid": 64, "external_id": 128}
MAX_SIMILAR = 100
SIMILAR_SEPARATOR = "|"
IMPORT_AUTHOR = "import"
FIELD_LABELS = {"question": "问题", "answer": "答案", "similar_questions": "相似问题", "category": "分类",
                "grid": "网格", "external_id": "编号"}
_FORMULA_SIGNS = re.compile(r"[(!|=]")
_ESCAPED_FORMULA = re.compile(r"^'(?=[=+\-@])")


class ImportFileError(ValueError):
    """The file as a whole cannot be read (format, encoding, size, header)."""


class FieldError(ValueError):
    """One field of a row breaks a rule; ``field`` names it, the message says why (Chinese)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class RowError:
    line: int  # 0: the file as a whole
    reason: str

    def __str__(self) -> str:
        return self.reason if self.line == 0 else f"第 {self.line} 行: {self.reason}"

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "reason": self.reason}


@dataclass(frozen=True)
class FaqRow:
    line: int
    question: str
    answer: str
    similar_questions: tuple[str, ...]
    category: str
    grid: str | None
    external_id: str


@dataclass
class ImportReport:
    rows: list[FaqRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # worth a look but not blocking (e.g. the same question twice under different external ids)
    warnings: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self, max_errors: int = 1000) -> dict[str, object]:
        """The report as JSON-ready data (at most ``max_errors`` errors and warnings are listed)."""
        return {
            "ok": self.ok,
            "rows": len(self.rows),
            "errors": [e.as_dict() for e in self.errors[:max_errors]],
            "error_count": len(self.errors),
            "warnings": [w.as_dict() for w in self.warnings[:max_errors]],
            "warning_count": len(self.warnings),
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


# --- reading -------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        try:
            data.decode("gb18030")
        except UnicodeDecodeError:
            guess = "如为 GBK/GB18030"
        else:
            guess = "看起来是 GBK/GB18030 编码"
        raise ImportFileError(
            f"文件不是 UTF-8 编码 (第 {line} 行附近无法解码; {guess}, 请另存为 UTF-8: "
            f"Excel 中选择「另存为 → CSV UTF-8 (逗号分隔)」)"
        ) from None


def _read_jsonl(data: bytes) -> Iterator[tuple[int, dict[str, object] | str]]:
    for number, line in enumerate(_decode(data).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"不是有效的 JSON ({exc.msg})"
            continue
        yield number, record if isinstance(record, dict) else "每行必须是一个 JSON 对象"


def _check_header(header: list[str]) -> list[str]:
    names = [(h or "").strip().lower() for h in header]
    missing = [f for f in ("question", "answer") if f not in names]
    if missing:
        raise ImportFileError(f"缺少必需的列: {', '.join(missing)} (表头为: {', '.join(names)})")
    return names


def _read_csv(data: bytes) -> Iterator[tuple[int, dict[str, object] | str]]:
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        header = _check_header(next(reader))
    except StopIteration:
        raise ImportFileError("文件为空") from None
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            yield reader.line_num, f"列数 ({len(cells)}) 多于表头 ({len(header)})"
            continue
        yield reader.line_num, {h: _unescape(c) for h, c in zip(header, cells, strict=False)}


def _read_xlsx(data: bytes) -> Iterator[tuple[int, dict[str, object] | str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise ImportFileError(f"无法读取 XLSX 文件: {exc}") from None
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    try:
        header = _check_header([str(c) if c is not None else "" for c in next(rows)])
    except StopIteration:
        raise ImportFileError("工作表为空") from None
    for number, cells in enumerate(rows, start=2):
        if all(c is None or str(c).strip() == "" for c in cells):
            continue
        yield number, {h: ("" if c is None else _unescape(c)) for h, c in zip(header, cells, strict=False)}
    workbook.close()


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet would take ``text`` for a formula: ``=…`` or ``@…``, or ``+…``/``-…``
    followed by a letter or by formula syntax (a Markdown list item ``- …`` and ``+86 …`` are fine)."""
    if not text or text[0] in "=@":
        return bool(text)
    if text[0] not in "+-" or len(text) < 2 or text[1].isspace():
        return False
    return text[1].isascii() and text[1].isalpha() or bool(_FORMULA_SIGNS.search(text))


def _unescape(cell: object) -> object:
    """Drop the ``'`` that the export puts before a formula-looking text."""
    return _ESCAPED_FORMULA.sub("", cell, count=1) if isinstance(cell, str) else cell


READERS: dict[str, Callable[[bytes], Iterator[tuple[int, dict[str, object] | str]]]] = {
    ".jsonl": _read_jsonl,
    ".csv": _read_csv,
    ".xlsx": _read_xlsx,
}


# --- validating ----------------------------------------------------------------------------


def _text(record: dict[str, object], name: str) -> str:
    value = record.get(name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FieldError(name, f"{name} 必须是文本")
    return strip_control(str(value)).strip()


def _similar(record: dict[str, object]) -> list[str]:
    value = record.get("similar_questions")
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items: list[object] = value.split(SIMILAR_SEPARATOR)
    elif isinstance(value, list):
        items = value
    else:
        raise FieldError("similar_questions", "similar_questions 必须是列表或以 | 分隔的文本")
    if not all(isinstance(item, str) for item in items):
        raise FieldError("similar_questions", "similar_questions 中的每一项都必须是文本")
    return [str(item) for item in items]


def derived_external_id(question: str, grid: str | None) -> str:
    digest = hashlib.sha256(f"{grid or ''}\x1f{normalize(question)}".encode()).hexdigest()
    return f"q-{digest[:20]}"


@dataclass(frozen=True)
class CleanFields:
    question: str
    similar_questions: tuple[str, ...]
    answer: str
    category: str
    grid: str | None


def clean_fields(question: str, similar_questions: list[str] | tuple[str, ...], answer: str,
                 category: str = "", grid: str | None = None) -> CleanFields:
    """The rules every FAQ's content follows, whether imported or edited in the console.

    Strips control characters and surrounding blanks, drops empty and repeated similar questions
    (and the standard question itself); raises :class:`FieldError` naming the field."""
    question = strip_control(question).strip()
    answer = strip_control(answer).strip()
    category = strip_control(category).strip()
    grid = strip_control(grid or "").strip() or None
    if not question:
        raise FieldError("question", "缺少问题 (question)")
    if not answer:
        raise FieldError("answer", "缺少答案 (answer)")
    values = {"question": question, "answer": answer, "category": category, "grid": grid or ""}
    for name, value in values.items():
        if len(value) > LIMITS[name]:
            raise FieldError(name, f"{name} 超过 {LIMITS[name]} 个字符")
        if looks_like_formula(value):
            raise FieldError(name, f"{FIELD_LABELS[name]}以 {value[0]} 开头, 会被电子表格当作公式执行, 请修改")
    similar: dict[str, None] = {}
    for item in similar_questions:
        item = strip_control(item).strip()
        if not item or item == question:
            continue
        if len(item) > LIMITS["question"]:
            raise FieldError("similar_questions", f"相似问题超过 {LIMITS['question']} 个字符")
        if SIMILAR_SEPARATOR in item:
            raise FieldError("similar_questions", f"相似问题中不能含有 {SIMILAR_SEPARATOR} (表格中用它分隔相似问题)")
        if looks_like_formula(item):
            raise FieldError("similar_questions",
                             f"相似问题「{item[:20]}」以 {item[0]} 开头, 会被电子表格当作公式执行, 请修改")
        similar[item] = None
    if len(similar) > MAX_SIMILAR:
        raise FieldError("similar_questions", f"相似问题超过 {MAX_SIMILAR} 个")
    return CleanFields(question, tuple(similar), answer, category, grid)


def validate_record(line: int, record: dict[str, object]) -> FaqRow:
    """One row as an FaqRow, or ValueError (a :class:`FieldError`) with a Chinese reason."""
    external_id = _text(record, "external_id")
    if len(external_id) > LIMITS["external_id"]:
        raise FieldError("external_id", f"external_id 超过 {LIMITS['external_id']} 个字符")
    fields = clean_fields(_text(record, "question"), _similar(record), _text(record, "answer"),
                          _text(record, "category"), _text(record, "grid"))
    return FaqRow(
        line=line,
        question=fields.question,
        answer=fields.answer,
        similar_questions=fields.similar_questions,
        category=fields.category,
        grid=fields.grid,
        external_id=external_id or derived_external_id(fields.question, fields.grid),
    )


def _suffix(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix not in READERS:
        raise ImportFileError(f"不支持的文件类型 {suffix or '(无扩展名)'}: 请使用 .jsonl、.csv 或 .xlsx")
    return suffix


def _validate(data: bytes, suffix: str, progress: Callable[[int], object] | None = None) -> ImportReport:
    report = ImportReport()
    first_line: dict[str, int] = {}
    first_question: dict[tuple[str | None, str], int] = {}
    for line, record in READERS[suffix](data):
        if progress is not None:
            progress(1)
        if isinstance(record, str):
            report.errors.append(RowError(line, record))
            continue
        try:
            row = validate_record(line, record)
        except ValueError as exc:
            report.errors.append(RowError(line, str(exc)))
            continue
        if row.external_id in first_line:
            report.errors.append(
                RowError(line, f"external_id {row.external_id} 与第 {first_line[row.external_id]} 行重复")
            )
            continue
        first_line[row.external_id] = line
        key = (row.grid, normalize(row.question))
        if key in first_question:
            report.warnings.append(RowError(line, f"问题与第 {first_question[key]} 行相同 (编号不同, 将作为两条 FAQ 导入)"))
        else:
            first_question[key] = line
        report.rows.append(row)
    if not report.rows and not report.errors:
        report.errors.append(RowError(0, "文件中没有任何 FAQ"))
    return report


def read_file(path: Path, progress: Callable[[int], object] | None = None) -> ImportReport:
    """Read and validate every row of ``path``; nothing is written. File-level problems raise
    :class:`ImportFileError`."""
    suffix = _suffix(path.name)
    if not path.is_file():
        raise ImportFileError(f"找不到文件: {path}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ImportFileError(f"文件超过 {MAX_FILE_BYTES // (1024 * 1024)} MB")
    return _validate(path.read_bytes(), suffix, progress)


def validate_upload(data: bytes, filename: str) -> ImportReport:
    """Validate an uploaded file (``filename`` gives its format); nothing is written and nothing is
    raised: a problem with the file as a whole (type, size, encoding, header) is the report's one
    error with line 0."""
    try:
        suffix = _suffix(filename or "")
        if len(data) > MAX_UPLOAD_BYTES:
            raise ImportFileError(
                f"文件超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB, 请拆分后分批导入 (或使用命令行导入)"
            )
        if not data:
            raise ImportFileError("文件为空")
        return _validate(data, suffix)
    except ImportFileError as exc:
        return ImportReport(errors=[RowError(0, str(exc))])


# --- writing -------------------------------------------------------------------------------


def _content(row: FaqRow) -> dict[str, object]:
    return {
        "question": row.question,
        "similar_questions": list(row.similar_questions),
        "answer": row.answer,
        "category": row.category,
        "grid": row.grid,
    }


def write_rows(
    session: Session,
    rows: list[FaqRow],
    status: FaqStatus = FaqStatus.PUBLISHED,
    progress: Callable[[int], object] | None = None,
    chunk: int = 2000,
    author: str = IMPORT_AUTHOR,
) -> tuple[int, int, int]:
    """Upsert validated rows in the caller's transaction. Returns (created, updated, unchanged).

    New FAQs get ``status`` and version 1; a changed FAQ keeps its status and gets the next version
    number (its published version, or its draft while it has never been published). Every created
    or changed FAQ gets a :class:`FaqVersion` (source ``import``) and a :class:`FaqEvent`
    (``imported``), written in bulk."""
    existing = {
        ext: (faq_id, question, similar, answer, category, grid, version, faq_status, overrides_id)
        for ext, faq_id, question, similar, answer, category, grid, version, faq_status, overrides_id
        in session.execute(
            select(
                Faq.external_id, Faq.id, Faq.question, Faq.similar_questions, Faq.answer,
                Faq.category, Faq.grid, Faq.version, Faq.status, Faq.overrides_id,
            )
        )
    }
    newest: dict[int, int] | None = None
    created = updated = unchanged = 0
    now = utcnow()
    is_draft = FaqStatus(status) is FaqStatus.DRAFT
    for start in range(0, len(rows), chunk):
        new: list[dict[str, object]] = []
        new_content: dict[str, dict[str, object]] = {}
        changes: list[dict[str, object]] = []
        versions: list[dict[str, object]] = []
        events: list[dict[str, object]] = []
        for row in rows[start : start + chunk]:
            fields = _content(row)
            old = existing.get(row.external_id)
            if old is None:
                new.append({
                    **fields, "external_id": row.external_id, "status": status, "version": 1,
                    "published_version": None if is_draft else 1, "draft_version": 1 if is_draft else None,
                    "review": Review.DRAFT if is_draft else Review.NONE, "created_at": now, "updated_at": now,
                })
                new_content[row.external_id] = fields
                created += 1
            elif old[1:6] == tuple(fields.values()):
                unchanged += 1
            else:
                if newest is None:
                    newest = dict(session.execute(
                        select(FaqVersion.faq_id, func.max(FaqVersion.number)).group_by(FaqVersion.faq_id)
                    ).all())
                faq_id = old[0]
                number = newest.get(faq_id, 0) + 1
                newest[faq_id] = number
                pointer = "draft_version" if old[7] == FaqStatus.DRAFT else "published_version"
                changes.append({"id": faq_id, **fields, "version": old[6] + 1, pointer: number, "updated_at": now})
                versions.append(_version(faq_id, number, fields, author, now, overrides_id=old[8]))
                events.append(_event(faq_id, number, author, now))
                updated += 1
        if new:
            ids = session.execute(insert(Faq).returning(Faq.id, Faq.external_id), new).all()
            for faq_id, external_id in ids:
                versions.append(_version(faq_id, 1, new_content[external_id], author, now))
                events.append(_event(faq_id, 1, author, now))
        if changes:
            session.execute(update(Faq), changes)  # bulk UPDATE by primary key
        if versions:
            session.execute(insert(FaqVersion), versions)
            session.execute(insert(FaqEvent), events)
        if progress is not None:
            progress(min(chunk, len(rows) - start))
    return created, updated, unchanged


def _version(faq_id: int, number: int, fields: dict[str, object], author: str, now: object,
             overrides_id: int | None = None) -> dict[str, object]:
    return {"faq_id": faq_id, "number": number, **fields, "overrides_id": overrides_id, "source": "import",
            "author": author, "note": "", "created_at": now}


def _event(faq_id: int, number: int, author: str, now: object) -> dict[str, object]:
    return {"faq_id": faq_id, "version_number": number, "kind": "imported", "actor": author, "note": "",
            "created_at": now}
