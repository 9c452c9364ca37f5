"""Import FAQs from .jsonl, .csv or .xlsx: validate every row, then write all or nothing.

Fields: ``question`` (required), ``answer`` (required), ``similar_questions`` (a list; in CSV and
XLSX a ``|``-separated cell), ``category``, ``grid``, ``external_id``. Re-importing a file is
idempotent: rows are matched on ``external_id`` (derived from the question and grid when absent)
and only changed FAQs get a new version (a :class:`FaqVersion` with source ``import`` and an event).

Reading the file formats is :mod:`knowledge_base.import_formats`; the rules of each field (lengths,
similar questions, formula-looking cells refused) are :mod:`knowledge_base.faq_fields`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from griddesk.db import utcnow
from griddesk.text import normalize, strip_control
from knowledge_base.faq_fields import (
    FIELD_LABELS,
    LIMITS,
    SIMILAR_SEPARATOR,
    FieldError,
    clean_fields,
    derived_external_id,
)
from knowledge_base.import_formats import READERS, ImportFileError, suffix_of
from knowledge_base.models import Faq, FaqEvent, FaqStatus, FaqVersion, Review

FIELDS = ("question", "answer", "similar_questions", "category", "grid", "external_id")
MAX_FILE_BYTES = 200 * 1024 * 1024  # command line
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # files uploaded in the admin console
IMPORT_AUTHOR = "import"


@dataclass(frozen=True)
class RowError:
    line: int  # 0: the file as a whole
    reason: str
    field: str = ""  # the field as people name it (标准问题, 答案…); "" for the row or the file as a whole

    def __str__(self) -> str:
        return self.reason if self.line == 0 else f"第 {self.line} 行：{self.reason}"

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "field": self.field, "reason": self.reason}


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


# --- validating ----------------------------------------------------------------------------


def _text(record: dict[str, object], name: str) -> str:
    value = record.get(name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FieldError(name, f"{FIELD_LABELS[name]}必须是文本")
    return strip_control(str(value)).strip()


def _similar(record: dict[str, object]) -> list[str]:
    value = record.get("similar_questions")
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items: list[object] = list(value.split(SIMILAR_SEPARATOR))
    elif isinstance(value, list):
        items = value
    else:
        raise FieldError("similar_questions", f"相似问题必须是列表或以 {SIMILAR_SEPARATOR} 分隔的文本")
    if not all(isinstance(item, str) for item in items):
        raise FieldError("similar_questions", "相似问题中的每一项都必须是文本")
    return [str(item) for item in items]


def validate_record(line: int, record: dict[str, object]) -> FaqRow:
    """One row as an FaqRow, or ValueError (a :class:`FieldError`) with a Chinese reason."""
    external_id = _text(record, "external_id")
    if len(external_id) > LIMITS["external_id"]:
        raise FieldError("external_id", f"编号超过 {LIMITS['external_id']} 个字符")
    fields = clean_fields(
        _text(record, "question"),
        _similar(record),
        _text(record, "answer"),
        _text(record, "category"),
        _text(record, "grid"),
    )
    return FaqRow(
        line=line,
        question=fields.question,
        answer=fields.answer,
        similar_questions=fields.similar_questions,
        category=fields.category,
        grid=fields.grid,
        external_id=external_id or derived_external_id(fields.question, fields.grid),
    )


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
        except FieldError as exc:
            report.errors.append(RowError(line, str(exc), FIELD_LABELS.get(exc.field, "")))
            continue
        except ValueError as exc:
            report.errors.append(RowError(line, str(exc)))
            continue
        if row.external_id in first_line:
            report.errors.append(_repeated(line, first_line[row.external_id], given=bool(_text(record, "external_id"))))
            continue
        first_line[row.external_id] = line
        key = (row.grid, normalize(row.question))
        if key in first_question:
            reason = f"标准问题与第 {first_question[key]} 行相同（编号不同，将作为两条问答导入）"
            report.warnings.append(RowError(line, reason, FIELD_LABELS["question"]))
        else:
            first_question[key] = line
        report.rows.append(row)
    if not report.rows and not report.errors:
        report.errors.append(RowError(0, "文件中没有任何问答"))
    return report


def _repeated(line: int, first: int, given: bool) -> RowError:
    """A row whose external id an earlier row has: the file's own 编号 twice, or (no 编号 given, so it is
    derived from the question and scope) the same question twice. The derived id is internal: never shown."""
    if given:
        return RowError(line, f"编号与第 {first} 行重复", FIELD_LABELS["external_id"])
    reason = f"标准问题与第 {first} 行相同（同一适用范围），请合并为一行，或给两行填写不同的编号"
    return RowError(line, reason, FIELD_LABELS["question"])


def read_file(path: Path, progress: Callable[[int], object] | None = None) -> ImportReport:
    """Read and validate every row of ``path``; nothing is written. File-level problems raise
    :class:`ImportFileError`."""
    suffix = suffix_of(path.name)
    if not path.is_file():
        raise ImportFileError(f"找不到文件：{path}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ImportFileError(f"文件超过 {MAX_FILE_BYTES // (1024 * 1024)} MB")
    return _validate(path.read_bytes(), suffix, progress)


def validate_upload(data: bytes, filename: str) -> ImportReport:
    """Validate an uploaded file (``filename`` gives its format); nothing is written and nothing is
    raised: a problem with the file as a whole (type, size, encoding, header) is the report's one
    error with line 0."""
    try:
        suffix = suffix_of(filename or "")
        if len(data) > MAX_UPLOAD_BYTES:
            raise ImportFileError(
                f"文件超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB，请拆分后分批导入（或使用命令行导入）"
            )
        if not data:
            raise ImportFileError("文件为空")
        return _validate(data, suffix)
    except ImportFileError as exc:
        return ImportReport(errors=[RowError(0, str(exc))])


# --- writing -------------------------------------------------------------------------------


# the content an FAQ shows customers, compared to tell a changed row from an unchanged one
CONTENT_FIELDS = ("question", "similar_questions", "answer", "category", "grid")


class StoredFaq(NamedTuple):
    """What an import needs of an FAQ already in the database (loaded by column name)."""

    external_id: str
    id: int
    question: str
    similar_questions: list[str]
    answer: str
    category: str
    grid: str | None
    version: int
    status: str
    overrides_id: int | None

    def content(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in CONTENT_FIELDS}


def _content(row: FaqRow) -> dict[str, object]:
    return {
        "question": row.question,
        "similar_questions": list(row.similar_questions),
        "answer": row.answer,
        "category": row.category,
        "grid": row.grid,
    }


def _stored_faqs(session: Session) -> dict[str, StoredFaq]:
    """Every FAQ in the database by ``external_id``."""
    columns = [getattr(Faq, name) for name in StoredFaq._fields]
    stored = (StoredFaq(**row._mapping) for row in session.execute(select(*columns)))
    return {faq.external_id: faq for faq in stored}


def _newest_versions(session: Session) -> dict[int, int]:
    """The highest version number of each FAQ that has versions, by FAQ id."""
    newest = func.max(FaqVersion.number).label("newest")
    rows = session.execute(select(FaqVersion.faq_id, newest).group_by(FaqVersion.faq_id))
    return {row.faq_id: row.newest for row in rows}


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
    existing = _stored_faqs(session)
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
                new.append(
                    {
                        **fields,
                        "external_id": row.external_id,
                        "status": status,
                        "version": 1,
                        "published_version": None if is_draft else 1,
                        "draft_version": 1 if is_draft else None,
                        "review": Review.DRAFT if is_draft else Review.NONE,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                new_content[row.external_id] = fields
                created += 1
            elif old.content() == fields:
                unchanged += 1
            else:
                if newest is None:
                    newest = _newest_versions(session)
                faq_id = old.id
                number = newest.get(faq_id, 0) + 1
                newest[faq_id] = number
                pointer = "draft_version" if old.status == FaqStatus.DRAFT else "published_version"
                changes.append({"id": faq_id, **fields, "version": old.version + 1, pointer: number, "updated_at": now})
                versions.append(_version(faq_id, number, fields, author, now, overrides_id=old.overrides_id))
                events.append(_event(faq_id, number, author, now))
                updated += 1
        if new:
            ids = session.execute(insert(Faq).returning(Faq.id, Faq.external_id), new).all()
            for inserted in ids:
                versions.append(_version(inserted.id, 1, new_content[inserted.external_id], author, now))
                events.append(_event(inserted.id, 1, author, now))
        if changes:
            session.execute(update(Faq), changes)  # bulk UPDATE by primary key
        if versions:
            session.execute(insert(FaqVersion), versions)
            session.execute(insert(FaqEvent), events)
        if progress is not None:
            progress(min(chunk, len(rows) - start))
    return created, updated, unchanged


def _version(
    faq_id: int, number: int, fields: dict[str, object], author: str, now: datetime, overrides_id: int | None = None
) -> dict[str, object]:
    return {
        "faq_id": faq_id,
        "number": number,
        **fields,
        "overrides_id": overrides_id,
        "source": "import",
        "author": author,
        "note": "",
        "created_at": now,
    }


def _event(faq_id: int, number: int, author: str, now: datetime) -> dict[str, object]:
    return {
        "faq_id": faq_id,
        "version_number": number,
        "kind": "imported",
        "actor": author,
        "note": "",
        "created_at": now,
    }
