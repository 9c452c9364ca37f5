"""What every curation step builds on: who may publish, the draft content, claiming an FAQ for one
change, and writing its versions and events.

Every change claims the FAQ first with a conditional ``UPDATE … SET version = version + 1 WHERE
version = :expected``: a writer that lost a race gets :class:`FaqConflict` and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from accounts.models import Role
from accounts.principals import Principal
from griddesk.db import rows_changed
from knowledge_base.curation_errors import FaqConflict, FaqNotFound, NotAllowed, VersionNotFound
from knowledge_base.models import Faq, FaqEvent, FaqStatus, FaqVersion, Review

Actor = Principal | str


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
        return cls(
            row.question, list(row.similar_questions or []), row.answer, row.category, row.grid, row.overrides_id
        )


def author_of(actor: Actor) -> str:
    """How an actor is recorded in versions and events: ``account:<id>`` or the system name."""
    return f"account:{actor.account_id}" if isinstance(actor, Principal) else actor


def may_publish(principal: Principal, faq: Faq | FaqVersion | FaqDraft) -> bool:
    """Admins publish everything; a grid manager publishes the FAQs scoped to one of their grids."""
    if principal.role is Role.ADMIN:
        return True
    return principal.role is Role.MANAGER and faq.grid is not None and faq.grid in principal.grid_codes


def actor_may_publish(actor: Actor, faq: Faq | FaqVersion | FaqDraft) -> bool:
    """:func:`may_publish` for a logged-in actor; a trusted system caller always may."""
    return not isinstance(actor, Principal) or may_publish(actor, faq)


def require_publish(actor: Actor, faq: Faq | FaqVersion | FaqDraft) -> None:
    if not actor_may_publish(actor, faq):
        if faq.grid is None:
            raise NotAllowed("只有管理员可以发布全局 FAQ")
        raise NotAllowed("只有管理员或该网格的网格经理可以发布这条 FAQ")


def get_faq(session: Session, faq_id: int) -> Faq:
    faq = session.get(Faq, faq_id)
    if faq is None:
        raise FaqNotFound(faq_id)
    return faq


def draft_of(session: Session, faq: Faq) -> FaqVersion | None:
    """The FAQ's pending draft version, if it has one."""
    if faq.draft_version is None:
        return None
    return version_row(session, faq.id, faq.draft_version)


def version_row(session: Session, faq_id: int, number: int) -> FaqVersion:
    row = session.scalar(select(FaqVersion).where(FaqVersion.faq_id == faq_id, FaqVersion.number == number))
    if row is None:
        raise VersionNotFound(faq_id, number)
    return row


def claim(session: Session, faq: Faq, expected_version: int | None) -> None:
    """Take the FAQ for one change: bump its version if it is still ``expected_version`` (default: the
    version loaded), else :class:`FaqConflict`. Holds the row (the database's write lock) until commit."""
    expected = faq.version if expected_version is None else expected_version
    result = session.execute(
        update(Faq)
        .where(Faq.id == faq.id, Faq.version == expected)
        .values(version=Faq.version + 1)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(result) != 1:
        current = session.scalar(select(Faq.version).where(Faq.id == faq.id))
        if current is None:
            raise FaqNotFound(faq.id)
        raise FaqConflict(faq.id, expected, current)
    session.refresh(faq)  # the state we now hold


def add_version(session: Session, faq: Faq, content: FaqDraft, source: str, actor: Actor, note: str = "") -> FaqVersion:
    newest = session.scalar(select(func.max(FaqVersion.number)).where(FaqVersion.faq_id == faq.id)) or 0
    row = FaqVersion(
        faq_id=faq.id,
        number=newest + 1,
        question=content.question,
        similar_questions=list(content.similar_questions),
        answer=content.answer,
        category=content.category,
        grid=content.grid,
        overrides_id=content.overrides_id,
        source=source,
        author=author_of(actor),
        note=note,
    )
    session.add(row)
    return row


def record_event(session: Session, faq: Faq, kind: str, actor: Actor, number: int | None, note: str = "") -> None:
    session.add(FaqEvent(faq_id=faq.id, version_number=number, kind=kind, actor=author_of(actor), note=note))


def show(faq: Faq, content: FaqDraft | FaqVersion) -> None:
    """Copy ``content`` into the live row."""
    faq.question = content.question
    faq.similar_questions = list(content.similar_questions)
    faq.answer = content.answer
    faq.category = content.category
    faq.grid = content.grid
    faq.overrides_id = content.overrides_id


def publish_version(session: Session, faq: Faq, row: FaqVersion) -> None:
    """Copy ``row`` into the live row and make it what customers see (the FAQ is already claimed)."""
    show(faq, row)
    faq.status = FaqStatus.PUBLISHED
    faq.published_version = row.number
    faq.draft_version = None  # published, or (restore) superseded: its version stays in the history
    faq.review = Review.NONE


def ensure_baseline(session: Session, faq: Faq) -> None:
    """An FAQ written before versions existed gets its live content recorded as its first version."""
    if faq.published_version is None and faq.draft_version is None:
        has_versions = session.scalar(select(FaqVersion.id).where(FaqVersion.faq_id == faq.id).limit(1))
        if has_versions is None:
            row = add_version(session, faq, FaqDraft.of(faq), "seed", "system")
            if faq.status == FaqStatus.DRAFT:
                faq.draft_version, faq.review = row.number, Review.DRAFT
            else:
                faq.published_version = row.number
            session.flush()


def current_content(session: Session, faq: Faq) -> FaqDraft:
    """What an edit starts from: the pending draft, else the live content."""
    draft = draft_of(session, faq)
    return FaqDraft.of(draft if draft is not None else faq)
