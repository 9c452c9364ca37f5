"""Reading an FAQ's history: its versions, its events and a character diff between two versions."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.actors import account_id_of, actor_for_account
from accounts.models import Account
from knowledge_base.curation_errors import FaqNotFound, VersionNotFound
from knowledge_base.models import Faq, FaqEvent, FaqVersion

DIFF_FIELDS = ("question", "similar_questions", "answer", "category", "grid")


@dataclass(frozen=True)
class VersionView:
    number: int
    question: str
    similar_questions: list[str]
    answer: str
    category: str
    grid: str | None
    overrides_id: int | None
    source: str
    author: str
    author_name: str
    note: str
    created_at: datetime
    is_published: bool = False  # the version customers see now
    is_draft: bool = False  # the pending draft

    def as_dict(self) -> dict[str, object]:
        return {
            "number": self.number,
            "question": self.question,
            "similar_questions": list(self.similar_questions),
            "answer": self.answer,
            "category": self.category,
            "grid": self.grid,
            "overrides_id": self.overrides_id,
            "source": self.source,
            "author": self.author,
            "author_name": self.author_name,
            "note": self.note,
            "created_at": self.created_at.isoformat(),
            "is_published": self.is_published,
            "is_draft": self.is_draft,
        }


@dataclass(frozen=True)
class EventView:
    kind: str  # created · draft_saved · submitted · approved · rejected · published · restored · archived · imported
    version_number: int | None
    actor: str
    actor_name: str
    note: str
    created_at: datetime

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "version_number": self.version_number,
            "actor": self.actor,
            "actor_name": self.actor_name,
            "note": self.note,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class FieldDiff:
    field: str
    before: str
    after: str
    ops: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (equal | insert | delete, text)

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def as_dict(self) -> dict[str, object]:
        return {
            "field": self.field,
            "before": self.before,
            "after": self.after,
            "changed": self.changed,
            "ops": [list(op) for op in self.ops],
        }


def author_names(session: Session, authors: Iterable[str]) -> dict[str, str]:
    """Display names of ``account:<id>`` authors; other authors (``import``, ``system``) name themselves."""
    names = {a: {"import": "导入", "system": "系统"}.get(a, a) for a in authors}
    ids = {account_id for a in names if (account_id := account_id_of(a)) is not None}
    if ids:
        for account_id, display_name in session.execute(
            select(Account.id, Account.display_name).where(Account.id.in_(ids))
        ):
            names[actor_for_account(account_id)] = display_name
    return names


def _faq(session: Session, faq_id: int) -> Faq:
    faq = session.get(Faq, faq_id)
    if faq is None:
        raise FaqNotFound(faq_id)
    return faq


def _view(row: FaqVersion, faq: Faq, names: dict[str, str]) -> VersionView:
    return VersionView(
        number=row.number,
        question=row.question,
        similar_questions=list(row.similar_questions or []),
        answer=row.answer,
        category=row.category,
        grid=row.grid,
        overrides_id=row.overrides_id,
        source=row.source,
        author=row.author,
        author_name=names.get(row.author, row.author),
        note=row.note,
        created_at=row.created_at,
        is_published=row.number == faq.published_version,
        is_draft=row.number == faq.draft_version,
    )


def history(session: Session, faq_id: int) -> list[VersionView]:
    """Every saved version of the FAQ, newest first."""
    faq = _faq(session, faq_id)
    rows = list(
        session.scalars(select(FaqVersion).where(FaqVersion.faq_id == faq_id).order_by(FaqVersion.number.desc()))
    )
    names = author_names(session, {r.author for r in rows})
    return [_view(r, faq, names) for r in rows]


def version_view(session: Session, faq_id: int, number: int) -> VersionView:
    faq = _faq(session, faq_id)
    row = session.scalar(select(FaqVersion).where(FaqVersion.faq_id == faq_id, FaqVersion.number == number))
    if row is None:
        raise VersionNotFound(faq_id, number)
    return _view(row, faq, author_names(session, [row.author]))


def events(session: Session, faq_id: int) -> list[EventView]:
    """The FAQ's history of actions (who did what, when), newest first."""
    _faq(session, faq_id)
    rows = list(session.scalars(select(FaqEvent).where(FaqEvent.faq_id == faq_id).order_by(FaqEvent.id.desc())))
    names = author_names(session, {r.actor for r in rows})
    return [
        EventView(r.kind, r.version_number, r.actor, names.get(r.actor, r.actor), r.note, r.created_at) for r in rows
    ]


def _field_text(view: VersionView, name: str) -> str:
    if name == "similar_questions":
        return "\n".join(view.similar_questions)
    value = getattr(view, name)
    return "" if value is None else str(value)


def char_ops(before: str, after: str) -> list[tuple[str, str]]:
    """The edit from ``before`` to ``after`` over characters: (equal | insert | delete, text) pieces."""
    ops: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            ops.append(("equal", before[i1:i2]))
            continue
        if tag in ("delete", "replace"):
            ops.append(("delete", before[i1:i2]))
        if tag in ("insert", "replace"):
            ops.append(("insert", after[j1:j2]))
    return ops


def diff(session: Session, faq_id: int, a: int, b: int) -> list[FieldDiff]:
    """How version ``b`` differs from version ``a``, field by field (every field, changed or not)."""
    before, after = version_view(session, faq_id, a), version_view(session, faq_id, b)
    out = []
    for name in DIFF_FIELDS:
        old, new = _field_text(before, name), _field_text(after, name)
        out.append(FieldDiff(name, old, new, char_ops(old, new)))
    return out
