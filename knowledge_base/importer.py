"""Import FAQs from .jsonl, .csv or .xlsx: validate every row, then write all or nothing.

Fields: ``question`` (required), ``answer`` (required), ``similar_questions`` (a list; in CSV and
XLSX a ``|``-separated cell), ``category``, ``grid``, ``external_id``. Re-importing a file is
idempotent: rows are matched on ``external_id`` (derived from the question and grid when absent)
and only changed FAQs get a new version.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from griddesk.db import utcnow
from knowledge_base.models import Faq, FaqStatus
from knowledge_base.normalize import normalize, strip_control

FIELDS = ("question", "answer", "similar_questions", "category", "grid", "external_id")
MAX_FILE_BYTES = 200 * 1024 * 1024
LIMITS = {"question": 500, "answer": 5000, "category": 64, "grid": 64, "external_id": 128}
MAX_SIMILAR = 100


class ImportFileError(ValueError):
    """The file as a whole cannot be read (format, encoding, size, header)."""


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"第 {self.line} 行: {self.reason}"


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
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


# --- reading -------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"文件不是 UTF-8 编码 (第 {line} 行附近无法解码; 如为 GBK/GB18030, 请另存为 UTF-8)"
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
        yield reader.line_num, dict(zip(header, cells, strict=False))


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
        yield number, {h: ("" if c is None else c) for h, c in zip(header, cells, strict=False)}
    workbook.close()


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
        raise ValueError(f"{name} 必须是文本")
    return strip_control(str(value)).strip()


def _similar(record: dict[str, object]) -> tuple[str, ...]:
    value = record.get("similar_questions")
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        items: list[object] = value.split("|")
    elif isinstance(value, list):
        items = value
    else:
        raise ValueError("similar_questions 必须是列表或以 | 分隔的文本")
    out = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError("similar_questions 中的每一项都必须是文本")
        item = strip_control(item).strip()
        if item:
            out.append(item)
    return tuple(dict.fromkeys(out))


def derived_external_id(question: str, grid: str | None) -> str:
    digest = hashlib.sha256(f"{grid or ''}\x1f{normalize(question)}".encode()).hexdigest()
    return f"q-{digest[:20]}"


def validate_record(line: int, record: dict[str, object]) -> FaqRow:
    """One row as an FaqRow, or ValueError with a Chinese reason."""
    question = _text(record, "question")
    answer = _text(record, "answer")
    if not question:
        raise ValueError("缺少问题 (question)")
    if not answer:
        raise ValueError("缺少答案 (answer)")
    values = {name: _text(record, name) for name in ("category", "grid", "external_id")}
    values.update(question=question, answer=answer)
    for name, limit in LIMITS.items():
        if len(values[name]) > limit:
            raise ValueError(f"{name} 超过 {limit} 个字符")
    similar = _similar(record)
    if len(similar) > MAX_SIMILAR:
        raise ValueError(f"相似问题超过 {MAX_SIMILAR} 个")
    too_long = [s for s in similar if len(s) > LIMITS["question"]]
    if too_long:
        raise ValueError(f"相似问题超过 {LIMITS['question']} 个字符")
    grid = values["grid"] or None
    return FaqRow(
        line=line,
        question=question,
        answer=answer,
        similar_questions=tuple(s for s in similar if s != question),
        category=values["category"],
        grid=grid,
        external_id=values["external_id"] or derived_external_id(question, grid),
    )


def read_file(path: Path, progress: Callable[[int], object] | None = None) -> ImportReport:
    """Read and validate every row of ``path``; nothing is written."""
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise ImportFileError(f"不支持的文件类型 {suffix or '(无扩展名)'}: 请使用 .jsonl、.csv 或 .xlsx")
    if not path.is_file():
        raise ImportFileError(f"找不到文件: {path}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ImportFileError(f"文件超过 {MAX_FILE_BYTES // (1024 * 1024)} MB")
    report = ImportReport()
    first_line: dict[str, int] = {}
    for line, record in READERS[suffix](path.read_bytes()):
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
        report.rows.append(row)
    if not report.rows and not report.errors:
        report.errors.append(RowError(0, "文件中没有任何 FAQ"))
    return report


# --- writing -------------------------------------------------------------------------------


def write_rows(
    session: Session,
    rows: list[FaqRow],
    status: FaqStatus = FaqStatus.PUBLISHED,
    progress: Callable[[int], object] | None = None,
    chunk: int = 2000,
) -> tuple[int, int, int]:
    """Upsert validated rows in the caller's transaction. Returns (created, updated, unchanged)."""
    existing = {
        ext: (faq_id, question, similar, answer, category, grid, version)
        for ext, faq_id, question, similar, answer, category, grid, version in session.execute(
            select(
                Faq.external_id, Faq.id, Faq.question, Faq.similar_questions, Faq.answer,
                Faq.category, Faq.grid, Faq.version,
            )
        )
    }
    created = updated = unchanged = 0
    now = utcnow()
    new: list[dict[str, object]] = []
    for start in range(0, len(rows), chunk):
        for row in rows[start : start + chunk]:
            fields = {
                "question": row.question,
                "similar_questions": list(row.similar_questions),
                "answer": row.answer,
                "category": row.category,
                "grid": row.grid,
            }
            old = existing.get(row.external_id)
            if old is None:
                new.append({**fields, "external_id": row.external_id, "status": status,
                            "version": 1, "created_at": now, "updated_at": now})
                created += 1
            elif old[1:6] == tuple(fields.values()):
                unchanged += 1
            else:
                session.execute(
                    update(Faq).where(Faq.id == old[0]).values(**fields, version=old[6] + 1, updated_at=now)
                )
                updated += 1
        if new:
            session.execute(insert(Faq), new)
            new = []
        if progress is not None:
            progress(min(chunk, len(rows) - start))
    return created, updated, unchanged
