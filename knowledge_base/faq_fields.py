"""The rules every FAQ's content follows, whether imported, edited in the console or proposed by the
inbox: lengths, similar questions, and no cell a spreadsheet would run as a formula (``=…``, ``+…``,
``-…``, ``@…``)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from griddesk.text import normalize, strip_control

# the order of the columns in exported files (the importer accepts any order)
COLUMNS = ("external_id", "question", "similar_questions", "answer", "category", "grid")
LIMITS = {"question": 500, "answer": 5000, "category": 64, "grid": 64, "external_id": 128}
MAX_SIMILAR = 100
SIMILAR_SEPARATOR = "|"
# the fields as people name them (forms, import reports, error messages; knowledge_base.labels adds the rest)
FIELD_LABELS = {
    "question": "标准问题",
    "answer": "答案",
    "similar_questions": "相似问题",
    "category": "分类",
    "grid": "适用范围",
    "external_id": "编号",
}
_FORMULA_SIGNS = re.compile(r"[(!|=]")


class FieldError(ValueError):
    """One field of a row breaks a rule; ``field`` names it, the message says why (Chinese)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet would take ``text`` for a formula: ``=…`` or ``@…``, or ``+…``/``-…``
    followed by a letter or by formula syntax (a Markdown list item ``- …`` and ``+86 …`` are fine)."""
    if not text or text[0] in "=@":
        return bool(text)
    if text[0] not in "+-" or len(text) < 2 or text[1].isspace():
        return False
    return (text[1].isascii() and text[1].isalpha()) or bool(_FORMULA_SIGNS.search(text))


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


def clean_fields(
    question: str,
    similar_questions: list[str] | tuple[str, ...],
    answer: str,
    category: str = "",
    grid: str | None = None,
) -> CleanFields:
    """The rules every FAQ's content follows, whether imported or edited in the console.

    Strips control characters and surrounding blanks, drops empty and repeated similar questions
    (and the standard question itself); raises :class:`FieldError` naming the field."""
    question = strip_control(question).strip()
    answer = strip_control(answer).strip()
    category = strip_control(category).strip()
    grid = strip_control(grid or "").strip() or None
    if not question:
        raise FieldError("question", "缺少标准问题")
    if not answer:
        raise FieldError("answer", "缺少答案")
    values = {"question": question, "answer": answer, "category": category, "grid": grid or ""}
    for name, value in values.items():
        if len(value) > LIMITS[name]:
            raise FieldError(name, f"{FIELD_LABELS[name]}超过 {LIMITS[name]} 个字符")
        if looks_like_formula(value):
            raise FieldError(name, f"{FIELD_LABELS[name]}以 {value[0]} 开头，会被电子表格当作公式执行，请修改")
    similar: dict[str, None] = {}
    for item in similar_questions:
        item = strip_control(item).strip()
        if not item or item == question:
            continue
        if len(item) > LIMITS["question"]:
            raise FieldError("similar_questions", f"相似问题超过 {LIMITS['question']} 个字符")
        if SIMILAR_SEPARATOR in item:
            raise FieldError("similar_questions", f"相似问题中不能含有 {SIMILAR_SEPARATOR}（表格中用它分隔相似问题）")
        if looks_like_formula(item):
            raise FieldError(
                "similar_questions", f"相似问题「{item[:20]}」以 {item[0]} 开头，会被电子表格当作公式执行，请修改"
            )
        similar[item] = None
    if len(similar) > MAX_SIMILAR:
        raise FieldError("similar_questions", f"相似问题超过 {MAX_SIMILAR} 个")
    return CleanFields(question, tuple(similar), answer, category, grid)
