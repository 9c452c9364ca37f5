"""Reading the files the importer takes (.jsonl, .csv, .xlsx) into numbered records; validating the
records is :mod:`knowledge_base.importer`'s job.

Columns (and JSONL keys) may be named in English, as the export writes them (``question``, ``answer``…),
or in Chinese (标准问题, 答案, 相似问题, 分类, 适用范围, 编号).

A leading ``'`` before a formula character (how :mod:`knowledge_base.export` escapes formula-looking
cells) is removed from CSV and XLSX cells.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from knowledge_base.faq_fields import FIELD_LABELS

_ESCAPED_FORMULA = re.compile(r"^'(?=[=+\-@])")

# (line number, the record, or why the line is not one)
Records = Iterator[tuple[int, dict[str, object] | str]]
REQUIRED = ("question", "answer")
# Chinese column names → the fields (besides each field's label in knowledge_base.faq_fields)
HEADER_ALIASES = {
    **{label: name for name, label in FIELD_LABELS.items()},
    "问题": "question",
    "网格": "grid",
    "范围": "grid",
}


class ImportFileError(ValueError):
    """The file as a whole cannot be read (format, encoding, size, header)."""


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
            f"文件不是 UTF-8 编码（第 {line} 行附近无法解码；{guess}），请另存为 UTF-8："
            f"Excel 中选择「另存为 → CSV UTF-8（逗号分隔）」"
        ) from None


def _read_jsonl(data: bytes) -> Records:
    for number, line in enumerate(_decode(data).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            yield number, "不是有效的 JSON"
            continue
        if isinstance(record, dict):
            yield number, {_field(str(key)): value for key, value in record.items()}
        else:
            yield number, "每行必须是一个 JSON 对象"


def _field(name: str) -> str:
    """The field a column or key names: ``question`` or 标准问题 → ``question``."""
    name = (name or "").strip()
    return HEADER_ALIASES.get(name, name.lower())


def _check_header(header: list[str]) -> list[str]:
    names = [_field(h) for h in header]
    missing = [f for f in REQUIRED if f not in names]
    if missing:
        wanted = "、".join(f"{FIELD_LABELS[f]}（{f}）" for f in missing)
        shown = "、".join(h.strip() for h in header if h and h.strip()) or "空"
        raise ImportFileError(f"缺少必需的列：{wanted}。现在的表头是：{shown}")
    return names


def _read_csv(data: bytes) -> Records:
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        header = _check_header(next(reader))
    except StopIteration:
        raise ImportFileError("文件为空") from None
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            yield reader.line_num, f"列数（{len(cells)}）多于表头（{len(header)}）"
            continue
        yield reader.line_num, {h: _unescape(c) for h, c in zip(header, cells, strict=False)}


def _read_xlsx(data: bytes) -> Records:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds for a bad file
        raise ImportFileError("无法读取 XLSX 文件：请确认它是用 Excel 或 WPS 保存的 .xlsx 文件") from None
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


def _unescape(cell: object) -> object:
    """Drop the ``'`` that the export puts before a formula-looking text."""
    return _ESCAPED_FORMULA.sub("", cell, count=1) if isinstance(cell, str) else cell


READERS: dict[str, Callable[[bytes], Records]] = {
    ".jsonl": _read_jsonl,
    ".csv": _read_csv,
    ".xlsx": _read_xlsx,
}


def suffix_of(filename: str) -> str:
    """The file's format (a key of :data:`READERS`), or :class:`ImportFileError`."""
    suffix = Path(filename).suffix.lower()
    if suffix not in READERS:
        raise ImportFileError(f"不支持的文件类型「{suffix or '无扩展名'}」：请使用 .jsonl、.csv 或 .xlsx")
    return suffix
