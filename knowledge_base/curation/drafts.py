"""Drafts of FAQs: validating them, creating an FAQ, saving a new draft, adding similar questions.

Customers only see the live :class:`Faq` row of a published FAQ; drafts live in :class:`FaqVersion`
rows (immutable) until they are published (:mod:`knowledge_base.curation.review`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from griddesk.text import normalize
from grids.models import Grid
from knowledge_base.curation.base import (
    Actor,
    FaqDraft,
    actor_may_publish,
    add_version,
    claim,
    current_content,
    ensure_baseline,
    get_faq,
    publish_version,
    record_event,
    show,
)
from knowledge_base.curation_errors import InvalidDraft
from knowledge_base.faq_fields import FIELD_LABELS, FieldError, clean_fields, derived_external_id
from knowledge_base.models import Faq, FaqStatus, Review


def validate_draft(draft: FaqDraft) -> FaqDraft:
    """The draft cleaned by the importer's rules (blanks and control characters stripped, similar
    questions de-duplicated), or :class:`InvalidDraft` naming the field."""
    for name in ("question", "answer", "category", "grid"):
        if not isinstance(getattr(draft, name), str | None):
            raise InvalidDraft(name, f"{FIELD_LABELS[name]}必须是文本")
    if draft.overrides_id is not None and (
        isinstance(draft.overrides_id, bool) or not isinstance(draft.overrides_id, int)
    ):
        raise InvalidDraft("overrides_id", "覆盖的全局问答必须是问答编号")
    if not isinstance(draft.similar_questions, list | tuple) or not all(
        isinstance(s, str) for s in draft.similar_questions
    ):
        raise InvalidDraft("similar_questions", "相似问题必须是文本列表")
    try:
        fields = clean_fields(
            draft.question or "", draft.similar_questions, draft.answer or "", draft.category or "", draft.grid
        )
    except FieldError as exc:
        raise InvalidDraft(exc.field, str(exc)) from None
    if draft.overrides_id is not None and fields.grid is None:
        raise InvalidDraft("overrides_id", "只有网格专属的 FAQ 才能覆盖全局 FAQ")
    return FaqDraft(
        fields.question, list(fields.similar_questions), fields.answer, fields.category, fields.grid, draft.overrides_id
    )


def _check_references(session: Session, draft: FaqDraft, faq_id: int | None = None) -> None:
    if draft.grid is not None and session.get(Grid, draft.grid) is None:
        raise InvalidDraft("grid", f"没有编号为 {draft.grid} 的网格")
    if draft.overrides_id is not None:
        target = session.get(Faq, draft.overrides_id)
        if target is None or target.grid is not None or target.id == faq_id:
            raise InvalidDraft("overrides_id", "被覆盖的必须是一条全局 FAQ")


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
    faq = Faq(
        external_id=_external_id(session, draft),
        status=FaqStatus.DRAFT,
        version=1,
        review=Review.DRAFT,
        similar_questions=[],
    )
    show(faq, draft)
    session.add(faq)
    session.flush()
    row = add_version(session, faq, draft, source, actor, note)
    faq.draft_version = row.number
    record_event(session, faq, "created", actor, row.number, note)
    session.flush()
    return faq


def save_draft(
    session: Session,
    faq_id: int,
    draft: FaqDraft,
    actor: Actor,
    expected_version: int,
    note: str = "",
    source: str = "edit",
) -> Faq:
    """Save ``draft`` as the FAQ's new pending draft (a submitted or rejected draft goes back to
    ``review=draft``: it needs submitting again). ``expected_version`` is the ``Faq.version`` the
    editor started from; if someone changed the FAQ since, :class:`FaqConflict` and nothing is written."""
    draft = validate_draft(draft)
    faq = get_faq(session, faq_id)
    _check_references(session, draft, faq_id)
    claim(session, faq, expected_version)
    ensure_baseline(session, faq)
    row = add_version(session, faq, draft, source, actor, note)
    faq.draft_version = row.number
    faq.review = Review.DRAFT
    if faq.published_version is None:  # never published: the live row shows the draft to curators only
        show(faq, draft)
    record_event(session, faq, "draft_saved", actor, row.number, note)
    session.flush()
    return faq


def add_similar_questions(
    session: Session, faq_id: int, questions: Sequence[str], actor: Actor, source: str = "edit", note: str = ""
) -> Faq:
    """Add ``questions`` (those it does not already have) as similar questions, in one new version.

    Published at once when the FAQ is published without a pending draft and the actor may publish
    it; otherwise the addition goes into the FAQ's draft (never publishing someone's unreviewed edits)."""
    faq = get_faq(session, faq_id)
    base = current_content(session, faq)
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
    note = note or "添加相似问题：" + "、".join(fresh)
    publish_now = faq.status == FaqStatus.PUBLISHED and faq.draft_version is None and actor_may_publish(actor, faq)
    claim(session, faq, None)
    ensure_baseline(session, faq)
    row = add_version(session, faq, content, source, actor, note)
    session.flush()
    if publish_now:
        publish_version(session, faq, row)
        record_event(session, faq, "published", actor, row.number, note)
    else:
        faq.draft_version = row.number
        if faq.review in (Review.NONE, Review.REJECTED):
            faq.review = Review.DRAFT
        if faq.published_version is None:
            show(faq, content)
        record_event(session, faq, "draft_saved", actor, row.number, note)
    session.flush()
    return faq


def add_similar_question(session: Session, faq_id: int, question: str, actor: Actor, source: str = "edit") -> Faq:
    """Add one similar question (see :func:`add_similar_questions`)."""
    return add_similar_questions(session, faq_id, [question], actor, source=source)
