"""Review and publication of FAQs: submit a draft, approve or reject it, publish, restore an old
version, archive. Each step claims the FAQ (see :mod:`knowledge_base.curation.base`), flushes and
leaves the commit to the caller."""

from __future__ import annotations

from sqlalchemy.orm import Session

from knowledge_base.curation.base import (
    Actor,
    FaqDraft,
    add_version,
    claim,
    get_faq,
    publish_version,
    record_event,
    require_publish,
    version_row,
)
from knowledge_base.curation_errors import InvalidDraft, InvalidTransition, NothingToPublish
from knowledge_base.models import Faq, FaqStatus, Review


def submit(session: Session, faq_id: int, actor: Actor, expected_version: int | None = None) -> Faq:
    """Send the pending draft to the grid manager (``review`` becomes pending)."""
    faq = get_faq(session, faq_id)
    if faq.draft_version is None or faq.review not in (Review.DRAFT, Review.REJECTED):
        raise InvalidTransition("只有未提交的草稿才能提交审核", str(faq.review))
    claim(session, faq, expected_version)
    faq.review = Review.PENDING
    record_event(session, faq, "submitted", actor, faq.draft_version)
    session.flush()
    return faq


def _require_pending(faq: Faq) -> None:
    if faq.review != Review.PENDING or faq.draft_version is None:
        raise InvalidTransition("这条 FAQ 没有等待审核的草稿", str(faq.review))


def approve(session: Session, faq_id: int, actor: Actor, note: str = "", expected_version: int | None = None) -> Faq:
    """Approve the submitted draft: it is published at once."""
    faq = get_faq(session, faq_id)
    _require_pending(faq)
    require_publish(actor, faq)
    row = version_row(session, faq.id, faq.draft_version)  # type: ignore[arg-type]
    require_publish(actor, row)  # a manager may not approve moving an FAQ out of their grid
    claim(session, faq, expected_version)
    record_event(session, faq, "approved", actor, row.number, note)
    publish_version(session, faq, row)
    record_event(session, faq, "published", actor, row.number, note)
    session.flush()
    return faq


def reject(session: Session, faq_id: int, actor: Actor, note: str, expected_version: int | None = None) -> Faq:
    """Send the submitted draft back with a note saying why (the draft stays, marked rejected)."""
    faq = get_faq(session, faq_id)
    _require_pending(faq)
    if not (note or "").strip():
        raise InvalidDraft("note", "请填写驳回理由")
    require_publish(actor, faq)
    claim(session, faq, expected_version)
    faq.review = Review.REJECTED
    record_event(session, faq, "rejected", actor, faq.draft_version, note.strip())
    session.flush()
    return faq


def publish(session: Session, faq_id: int, actor: Actor, expected_version: int | None = None, note: str = "") -> Faq:
    """Publish the pending draft (or, for an archived FAQ without a draft, its last published
    version again). One transaction: the live row, its pointers and the event."""
    faq = get_faq(session, faq_id)
    require_publish(actor, faq)
    number = faq.draft_version
    if number is None and faq.status == FaqStatus.ARCHIVED:
        number = faq.published_version
    if number is None:
        raise NothingToPublish(faq_id)
    row = version_row(session, faq.id, number)
    require_publish(actor, row)  # a manager may not publish an FAQ out of their grid
    claim(session, faq, expected_version)  # nothing changed since we looked, or FaqConflict
    publish_version(session, faq, row)
    record_event(session, faq, "published", actor, row.number, note)
    session.flush()
    return faq


def restore(session: Session, faq_id: int, number: int, actor: Actor, expected_version: int | None = None) -> Faq:
    """Publish the content of version ``number`` again, as a new version (source ``restore``), in one
    step; a pending draft is superseded (it stays in the history)."""
    faq = get_faq(session, faq_id)
    require_publish(actor, faq)
    old = version_row(session, faq_id, number)
    require_publish(actor, old)
    claim(session, faq, expected_version)
    row = add_version(session, faq, FaqDraft.of(old), "restore", actor, f"恢复自版本 {number}")
    session.flush()
    publish_version(session, faq, row)
    record_event(session, faq, "restored", actor, row.number, f"恢复自版本 {number}")
    session.flush()
    return faq


def archive(session: Session, faq_id: int, actor: Actor, expected_version: int | None = None, note: str = "") -> Faq:
    """Withdraw the FAQ: customers stop seeing it; its history stays (publish brings it back)."""
    faq = get_faq(session, faq_id)
    require_publish(actor, faq)
    if faq.status == FaqStatus.ARCHIVED:
        raise InvalidTransition("这条 FAQ 已经下架", str(faq.status))
    claim(session, faq, expected_version)
    faq.status = FaqStatus.ARCHIVED
    record_event(session, faq, "archived", actor, faq.published_version, note)
    session.flush()
    return faq
