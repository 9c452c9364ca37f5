"""Curating the knowledge base: drafts, review, publishing, restore and archive of FAQs.

Customers only see the live :class:`Faq` row of a published FAQ, which holds the content of its
published version; drafts live in :class:`FaqVersion` rows (immutable) until they are published.
Every change claims the FAQ first with a conditional ``UPDATE … SET version = version + 1 WHERE
version = :expected``: a writer that lost a race gets :class:`FaqConflict` and nothing is written.
Functions flush; the caller commits (one transaction: the version row, the live row and the event
land together or not at all).

``actor`` is a logged-in :class:`~accounts.service.Principal` (whose role decides what they may
publish) or a string naming a trusted system caller (``"system"``, ``"import"``), which may.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import Text, cast, func, or_, select, update
from sqlalchemy.orm import Session

from accounts.models import Role
from accounts.service import Principal
from grids.models import Grid
from knowledge_base.curation_errors import (
    CurationError,
    FaqConflict,
    FaqNotFound,
    InvalidDraft,
    InvalidTransition,
    NotAllowed,
    NothingToPublish,
    VersionNotFound,
)
from knowledge_base.history import (
    EventView,
    FieldDiff,
    VersionView,
    diff,
    events,
    history,
    version_view,
)
from knowledge_base.faq_fields import FieldError, clean_fields, derived_external_id
from knowledge_base.models import Faq, FaqEvent, FaqStatus, FaqVersion, Review
from griddesk.text import normalize

__all__ = [
    "Actor", "CurationError", "EventView", "FaqConflict", "FaqDraft", "FaqNotFound", "FieldDiff",
    "InvalidDraft", "InvalidTransition", "NotAllowed", "NothingToPublish", "VersionNotFound", "VersionView",
    "add_similar_question", "add_similar_questions", "approve", "archive", "author_of", "create_faq", "diff",
    "draft_of", "events", "find_faqs", "get_faq", "history", "may_publish", "publish", "reject", "restore",
    "save_draft", "submit", "validate_draft", "version_view",
]

Actor = Principal | str
MAX_PAGE = 200


@dataclass(frozen=True)
class FaqDraft:
    question: str
    similar_questions: list[str] = field(default_factory=list)
    answer: str = ""
    category: str = ""
    grid: str | None = None  # None: global
    overrides_id: int | None = None  # a grid FAQ replacing this global FAQ for its grid

    @classmethod
    def of(cls, row: Faq | FaqVersion) -> FaqDraft:
        return cls(row.question, list(row.similar_questions or []), row.answer, row.category, row.grid,
                   row.overrides_id)


def author_of(actor: Actor) -> str:
    """How an actor is recorded in versions and events: ``account:<id>`` or the system name."""
    return f"account:{actor.account_id}" if isinstance(actor, Principal) else actor


def may_publish(principal: Principal, faq: Faq | FaqVersion | FaqDraft) -> bool:
    """Admins publish everything; a grid manager publishes the FAQs scoped to one of their grids."""
    if principal.role is Role.ADMIN:
        return True
    return principal.role is Role.MANAGER and faq.grid is not None and faq.grid in principal.grid_codes


def _may_publish(actor: Actor, faq: Faq | FaqVersion | FaqDraft) -> bool:
    return not isinstance(actor, Principal) or may_publish(actor, faq)


def _require_publish(actor: Actor, faq: Faq | FaqVersion | FaqDraft) -> None:
    if not _may_publish(actor, faq):
        if faq.grid is None:
            raise NotAllowed("只有管理员可以发布全局 FAQ")
        raise NotAllowed("只有管理员或该网格的网格经理可以发布这条 FAQ")


# --- validation ----------------------------------------------------------------------------


def validate_draft(draft: FaqDraft) -> FaqDraft:
    """The draft cleaned by the importer's rules (blanks and control characters stripped, similar
    questions de-duplicated), or :class:`InvalidDraft` naming the field."""
    for name in ("question", "answer", "category"):
        if not isinstance(getattr(draft, name), str | None):
            raise InvalidDraft(name, f"{name} 必须是文本")
    if not isinstance(draft.grid, str | None):
        raise InvalidDraft("grid", "grid 必须是文本")
    if draft.overrides_id is not None and (isinstance(draft.overrides_id, bool)
                                           or not isinstance(draft.overrides_id, int)):
        raise InvalidDraft("overrides_id", "overrides_id 必须是 FAQ 编号")
    if not isinstance(draft.similar_questions, list | tuple) or not all(
        isinstance(s, str) for s in draft.similar_questions
    ):
        raise InvalidDraft("similar_questions", "相似问题必须是文本列表")
    try:
        fields = clean_fields(draft.question or "", draft.similar_questions, draft.answer or "",
                              draft.category or "", draft.grid)
    except FieldError as exc:
        raise InvalidDraft(exc.field, str(exc)) from None
    if draft.overrides_id is not None and fields.grid is None:
        raise InvalidDraft("overrides_id", "只有网格专属的 FAQ 才能覆盖全局 FAQ")
    return FaqDraft(fields.question, list(fields.similar_questions), fields.answer, fields.category,
                    fields.grid, draft.overrides_id)


def _check_references(session: Session, draft: FaqDraft, faq_id: int | None = None) -> None:
    if draft.grid is not None and session.get(Grid, draft.grid) is None:
        raise InvalidDraft("grid", f"没有编号为 {draft.grid} 的网格")
    if draft.overrides_id is not None:
        target = session.get(Faq, draft.overrides_id)
        if target is None or target.grid is not None or target.id == faq_id:
            raise InvalidDraft("overrides_id", "被覆盖的必须是一条全局 FAQ")


# --- building blocks -----------------------------------------------------------------------


def get_faq(session: Session, faq_id: int) -> Faq:
    faq = session.get(Faq, faq_id)
    if faq is None:
        raise FaqNotFound(faq_id)
    return faq


def draft_of(session: Session, faq: Faq) -> FaqVersion | None:
    """The FAQ's pending draft version, if it has one."""
    if faq.draft_version is None:
        return None
    return _version(session, faq.id, faq.draft_version)


def _version(session: Session, faq_id: int, number: int) -> FaqVersion:
    row = session.scalar(select(FaqVersion).where(FaqVersion.faq_id == faq_id, FaqVersion.number == number))
    if row is None:
        raise VersionNotFound(faq_id, number)
    return row


def _claim(session: Session, faq: Faq, expected_version: int | None) -> None:
    """Take the FAQ for one change: bump its version if it is still ``expected_version`` (default: the
    version loaded), else :class:`FaqConflict`. Holds the row (the database's write lock) until commit."""
    expected = faq.version if expected_version is None else expected_version
    result = session.execute(
        update(Faq)
        .where(Faq.id == faq.id, Faq.version == expected)
        .values(version=Faq.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        current = session.scalar(select(Faq.version).where(Faq.id == faq.id))
        if current is None:
            raise FaqNotFound(faq.id)
        raise FaqConflict(faq.id, expected, current)
    session.refresh(faq)  # the state we now hold


def _add_version(session: Session, faq: Faq, content: FaqDraft, source: str, actor: Actor,
                 note: str = "") -> FaqVersion:
    newest = session.scalar(select(func.max(FaqVersion.number)).where(FaqVersion.faq_id == faq.id)) or 0
    row = FaqVersion(
        faq_id=faq.id, number=newest + 1, question=content.question,
        similar_questions=list(content.similar_questions), answer=content.answer, category=content.category,
        grid=content.grid, overrides_id=content.overrides_id, source=source, author=author_of(actor),
        note=note,
    )
    session.add(row)
    return row


def _event(session: Session, faq: Faq, kind: str, actor: Actor, number: int | None, note: str = "") -> None:
    session.add(FaqEvent(faq_id=faq.id, version_number=number, kind=kind, actor=author_of(actor), note=note))


def _show(faq: Faq, content: FaqDraft | FaqVersion) -> None:
    faq.question = content.question
    faq.similar_questions = list(content.similar_questions)
    faq.answer = content.answer
    faq.category = content.category
    faq.grid = content.grid
    faq.overrides_id = content.overrides_id


def _publish_version(session: Session, faq: Faq, row: FaqVersion) -> None:
    """Copy ``row`` into the live row and make it what customers see (the FAQ is already claimed)."""
    _show(faq, row)
    faq.status = FaqStatus.PUBLISHED
    faq.published_version = row.number
    faq.draft_version = None  # published, or (restore) superseded: its version stays in the history
    faq.review = Review.NONE


def _ensure_baseline(session: Session, faq: Faq) -> None:
    """An FAQ written before versions existed gets its live content recorded as its first version."""
    if faq.published_version is None and faq.draft_version is None:
        has_versions = session.scalar(select(FaqVersion.id).where(FaqVersion.faq_id == faq.id).limit(1))
        if has_versions is None:
            row = _add_version(session, faq, FaqDraft.of(faq), "seed", "system")
            if faq.status == FaqStatus.DRAFT:
                faq.draft_version, faq.review = row.number, Review.DRAFT
            else:
                faq.published_version = row.number
            session.flush()


def _current_content(session: Session, faq: Faq) -> FaqDraft:
    """What an edit starts from: the pending draft, else the live content."""
    draft = draft_of(session, faq)
    return FaqDraft.of(draft if draft is not None else faq)


# --- the workflow --------------------------------------------------------------------------


def _external_id(session: Session, draft: FaqDraft) -> str:
    candidate = derived_external_id(draft.question, draft.grid)
    taken = session.scalar(select(Faq.id).where(Faq.external_id == candidate))
    if taken is None:
        return candidate
    newest = session.scalar(select(func.max(Faq.id))) or 0
    return f"{candidate}-{newest + 1}"


def create_faq(session: Session, draft: FaqDraft, actor: Actor, note: str = "", source: str = "edit") -> Faq:
    """A new FAQ as a draft (version 1): customers do not see it until it is published."""
    draft = validate_draft(draft)
    _check_references(session, draft)
    faq = Faq(external_id=_external_id(session, draft), status=FaqStatus.DRAFT, version=1,
              review=Review.DRAFT, similar_questions=[])
    _show(faq, draft)
    session.add(faq)
    session.flush()
    row = _add_version(session, faq, draft, source, actor, note)
    faq.draft_version = row.number
    _event(session, faq, "created", actor, row.number, note)
    session.flush()
    return faq


def save_draft(session: Session, faq_id: int, draft: FaqDraft, actor: Actor, expected_version: int,
               note: str = "", source: str = "edit") -> Faq:
    """Save ``draft`` as the FAQ's new pending draft (a submitted or rejected draft goes back to
    ``review=draft``: it needs submitting again). ``expected_version`` is the ``Faq.version`` the
    editor started from; if someone changed the FAQ since, :class:`FaqConflict` and nothing is written."""
    draft = validate_draft(draft)
    faq = get_faq(session, faq_id)
    _check_references(session, draft, faq_id)
    _claim(session, faq, expected_version)
    _ensure_baseline(session, faq)
    row = _add_version(session, faq, draft, source, actor, note)
    faq.draft_version = row.number
    faq.review = Review.DRAFT
    if faq.published_version is None:  # never published: the live row shows the draft to curators only
        _show(faq, draft)
    _event(session, faq, "draft_saved", actor, row.number, note)
    session.flush()
    return faq


def submit(session: Session, faq_id: int, actor: Actor, expected_version: int | None = None) -> Faq:
    """Send the pending draft to the grid manager (``review`` becomes pending)."""
    faq = get_faq(session, faq_id)
    if faq.draft_version is None or faq.review not in (Review.DRAFT, Review.REJECTED):
        raise InvalidTransition("只有未提交的草稿才能提交审核", str(faq.review))
    _claim(session, faq, expected_version)
    faq.review = Review.PENDING
    _event(session, faq, "submitted", actor, faq.draft_version)
    session.flush()
    return faq


def _require_pending(faq: Faq) -> None:
    if faq.review != Review.PENDING or faq.draft_version is None:
        raise InvalidTransition("这条 FAQ 没有等待审核的草稿", str(faq.review))


def approve(session: Session, faq_id: int, actor: Actor, note: str = "",
            expected_version: int | None = None) -> Faq:
    """Approve the submitted draft: it is published at once."""
    faq = get_faq(session, faq_id)
    _require_pending(faq)
    _require_publish(actor, faq)
    row = _version(session, faq.id, faq.draft_version)  # type: ignore[arg-type]
    _require_publish(actor, row)  # a manager may not approve moving an FAQ out of their grid
    _claim(session, faq, expected_version)
    _event(session, faq, "approved", actor, row.number, note)
    _publish_version(session, faq, row)
    _event(session, faq, "published", actor, row.number, note)
    session.flush()
    return faq


def reject(session: Session, faq_id: int, actor: Actor, note: str,
           expected_version: int | None = None) -> Faq:
    """Send the submitted draft back with a note saying why (the draft stays, marked rejected)."""
    faq = get_faq(session, faq_id)
    _require_pending(faq)
    if not (note or "").strip():
        raise InvalidDraft("note", "请填写驳回理由")
    _require_publish(actor, faq)
    _claim(session, faq, expected_version)
    faq.review = Review.REJECTED
    _event(session, faq, "rejected", actor, faq.draft_version, note.strip())
    session.flush()
    return faq


def publish(session: Session, faq_id: int, actor: Actor, expected_version: int | None = None,
            note: str = "") -> Faq:
    """Publish the pending draft (or, for an archived FAQ without a draft, its last published
    version again). One transaction: the live row, its pointers and the event."""
    faq = get_faq(session, faq_id)
    _require_publish(actor, faq)
    number = faq.draft_version
    if number is None and faq.status == FaqStatus.ARCHIVED:
        number = faq.published_version
    if number is None:
        raise NothingToPublish(faq_id)
    row = _version(session, faq.id, number)
    _require_publish(actor, row)  # a manager may not publish an FAQ out of their grid
    _claim(session, faq, expected_version)  # nothing changed since we looked, or FaqConflict
    _publish_version(session, faq, row)
    _event(session, faq, "published", actor, row.number, note)
    session.flush()
    return faq


def restore(session: Session, faq_id: int, number: int, actor: Actor,
            expected_version: int | None = None) -> Faq:
    """Publish the content of version ``number`` again, as a new version (source ``restore``), in one
    step; a pending draft is superseded (it stays in the history)."""
    faq = get_faq(session, faq_id)
    _require_publish(actor, faq)
    old = _version(session, faq_id, number)
    _require_publish(actor, old)
    _claim(session, faq, expected_version)
    row = _add_version(session, faq, FaqDraft.of(old), "restore", actor, f"恢复自版本 {number}")
    session.flush()
    _publish_version(session, faq, row)
    _event(session, faq, "restored", actor, row.number, f"恢复自版本 {number}")
    session.flush()
    return faq


def archive(session: Session, faq_id: int, actor: Actor, expected_version: int | None = None,
            note: str = "") -> Faq:
    """Withdraw the FAQ: customers stop seeing it; its history stays (publish brings it back)."""
    faq = get_faq(session, faq_id)
    _require_publish(actor, faq)
    if faq.status == FaqStatus.ARCHIVED:
        raise InvalidTransition("这条 FAQ 已经下架", str(faq.status))
    _claim(session, faq, expected_version)
    faq.status = FaqStatus.ARCHIVED
    _event(session, faq, "archived", actor, faq.published_version, note)
    session.flush()
    return faq


def add_similar_questions(session: Session, faq_id: int, questions: Sequence[str], actor: Actor,
                          source: str = "edit", note: str = "") -> Faq:
    """Add ``questions`` (those it does not already have) as similar questions, in one new version.

    Published at once when the FAQ is published without a pending draft and the actor may publish
    it; otherwise the addition goes into the FAQ's draft (never publishing someone's unreviewed edits)."""
    faq = get_faq(session, faq_id)
    base = _current_content(session, faq)
    known = {normalize(q) for q in (base.question, *base.similar_questions)}
    fresh: list[str] = []
    for question in questions:
        key = normalize(question)
        if key and key not in known:
            known.add(key)
            fresh.append(question.strip())
    if not fresh:
        return faq
    content = validate_draft(replace(base, similar_questions=[*base.similar_questions, *fresh]))
    note = note or "添加相似问题: " + "、".join(fresh)
    publish_now = (faq.status == FaqStatus.PUBLISHED and faq.draft_version is None
                   and _may_publish(actor, faq))
    _claim(session, faq, None)
    _ensure_baseline(session, faq)
    row = _add_version(session, faq, content, source, actor, note)
    session.flush()
    if publish_now:
        _publish_version(session, faq, row)
        _event(session, faq, "published", actor, row.number, note)
    else:
        faq.draft_version = row.number
        if faq.review in (Review.NONE, Review.REJECTED):
            faq.review = Review.DRAFT
        if faq.published_version is None:
            _show(faq, content)
        _event(session, faq, "draft_saved", actor, row.number, note)
    session.flush()
    return faq


def add_similar_question(session: Session, faq_id: int, question: str, actor: Actor,
                         source: str = "edit") -> Faq:
    """Add one similar question (see :func:`add_similar_questions`)."""
    return add_similar_questions(session, faq_id, [question], actor, source=source)


# --- finding -------------------------------------------------------------------------------


def find_faqs(
    session: Session,
    text: str | None = None,
    category: str | None = None,
    grid: str | None = None,
    status: str | None = None,
    review: str | None = None,
    limit: int = 50,
    offset: int = 0,
    visible_grids: Sequence[str] | None = None,
) -> tuple[list[Faq], int]:
    """FAQs matching every given filter, most recently changed first, and how many match in all.

    ``text`` matches the question, similar questions, answer or external id (a number: also the id);
    ``grid="global"`` means global FAQs only; ``review="none"`` FAQs without a pending draft;
    ``visible_grids`` limits the result to global FAQs and
    those grids (a manager's view)."""
    stmt = select(Faq)
    if text and text.strip():
        needle = text.strip()
        escaped = _json_escaped(needle)
        conditions = [
            Faq.question.contains(needle, autoescape=True),
            Faq.answer.contains(needle, autoescape=True),
            Faq.external_id == needle,
            cast(Faq.similar_questions, Text).contains(needle, autoescape=True),
        ]
        if escaped != needle:
            conditions.append(cast(Faq.similar_questions, Text).contains(escaped, autoescape=True))
        if needle.isdigit():
            conditions.append(Faq.id == int(needle))
        stmt = stmt.where(or_(*conditions))
    if category:
        stmt = stmt.where(Faq.category == category)
    if grid == "global":
        stmt = stmt.where(Faq.grid.is_(None))
    elif grid:
        stmt = stmt.where(Faq.grid == grid)
    if status:
        stmt = stmt.where(Faq.status == status)
    if review:
        stmt = stmt.where(Faq.review == ("" if review == "none" else review))
    if visible_grids is not None:
        stmt = stmt.where(or_(Faq.grid.is_(None), Faq.grid.in_(list(visible_grids))))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    limit = max(1, min(limit, MAX_PAGE))
    rows = session.scalars(stmt.order_by(Faq.updated_at.desc(), Faq.id.desc()).limit(limit).offset(max(0, offset)))
    return list(rows), total


def _json_escaped(text: str) -> str:
    """``text`` as the default JSON serialiser stores it inside a list (non-ASCII as \\uXXXX)."""
    import json

    return json.dumps(text)[1:-1]
