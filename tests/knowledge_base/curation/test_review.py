"""Curation review: submit, approve, reject, publish, restore and archive, and who may do them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from griddesk.db import session_scope
from knowledge_base import history
from knowledge_base.curation import base, drafts, review
from knowledge_base.curation.base import FaqDraft
from knowledge_base.curation_errors import (
    InvalidDraft,
    InvalidTransition,
    NotAllowed,
    NothingToPublish,
)
from knowledge_base.models import FaqEvent, FaqStatus, Review
from knowledge_base.search import KnowledgeBase
from tests.encoders import HashingEncoder
from tests.factories import make_demo_faqs
from tests.knowledge_base.curation.common import ADMIN, AGENT, INVOICE, MANAGER, OTHER_MANAGER, published


def test_publishing_without_a_draft_is_refused(settings):
    with session_scope() as session:
        faq_id = published(session).id
    with session_scope() as session, pytest.raises(NothingToPublish) as caught:
        review.publish(session, faq_id, ADMIN)
    assert caught.value.code == "nothing_to_publish"


def test_the_index_answers_with_the_new_text_right_after_publish(settings):
    with session_scope() as session:
        make_demo_faqs(session)
        faq_id = published(session, FaqDraft("怎么注销账号", ["如何注销账户"], "请到营业厅办理注销。")).id
    kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
    assert kb.search("怎么注销账号", k=1).top.faq.answer == "请到营业厅办理注销。"
    with session_scope() as session:
        faq = base.get_faq(session, faq_id)
        drafts.save_draft(
            session,
            faq_id,
            FaqDraft("怎么注销账号", ["如何注销账户"], "在 App 里即可注销。"),
            ADMIN,
            expected_version=faq.version,
        )
    assert kb.search("怎么注销账号", k=1).top.faq.answer == "请到营业厅办理注销。"  # a draft is never found
    with session_scope() as session:
        review.publish(session, faq_id, ADMIN)
    assert kb.search("怎么注销账号", k=1).top.faq.answer == "在 App 里即可注销。"
    with session_scope() as session:
        review.archive(session, faq_id, ADMIN)
    assert all(hit.faq.id != faq_id for hit in kb.search("怎么注销账号", k=5).hits)
    with session_scope() as session:  # unarchive = publish again
        faq = review.publish(session, faq_id, ADMIN)
        assert faq.status == FaqStatus.PUBLISHED
    assert kb.search("怎么注销账号", k=1).top.faq.id == faq_id


def test_publishing_changes_the_updated_at_stamp_the_search_service_watches(settings):
    with session_scope() as session:
        faq = drafts.create_faq(session, INVOICE, ADMIN)
        faq_id, before = faq.id, faq.updated_at
    with session_scope() as session:
        assert review.publish(session, faq_id, ADMIN).updated_at > before


def test_restore_publishes_an_old_version_as_a_new_one_in_one_step(settings):
    with session_scope() as session:
        faq_id = published(session).id
    with session_scope() as session:
        drafts.save_draft(session, faq_id, FaqDraft("怎么开发票", [], "新的答案"), ADMIN, expected_version=2)
        review.publish(session, faq_id, ADMIN)
    with session_scope() as session:
        faq = review.restore(session, faq_id, 1, ADMIN)
        assert faq.answer == INVOICE.answer and faq.published_version == 3
        views = history.history(session, faq_id)
        assert [v.number for v in views] == [3, 2, 1]
        assert views[0].source == "restore" and views[0].is_published and "版本 1" in views[0].note
        assert views[1].answer == "新的答案"  # nothing is lost


def test_a_grid_draft_goes_through_the_grid_managers_review(settings):
    draft = FaqDraft("武侯营业厅在哪", [], "武侯区一环路 1 号。", grid="cd-wuhou")
    with session_scope() as session:
        faq = drafts.create_faq(session, draft, AGENT)
        faq_id = faq.id
        with pytest.raises(NotAllowed):
            review.publish(session, faq_id, AGENT)
        with pytest.raises(InvalidTransition):
            review.approve(session, faq_id, MANAGER)  # not submitted yet
        review.submit(session, faq_id, AGENT)
        assert base.get_faq(session, faq_id).review == Review.PENDING
        with pytest.raises(InvalidTransition):
            review.submit(session, faq_id, AGENT)
        with pytest.raises(NotAllowed):
            review.approve(session, faq_id, OTHER_MANAGER)
        with pytest.raises(InvalidDraft):
            review.reject(session, faq_id, MANAGER, note=" ")
        faq = review.reject(session, faq_id, MANAGER, note="地址写错了")
        assert faq.review == Review.REJECTED and faq.status == FaqStatus.DRAFT
        fixed = FaqDraft("武侯营业厅在哪", [], "武侯区一环路 2 号。", grid="cd-wuhou")
        drafts.save_draft(session, faq_id, fixed, AGENT, expected_version=faq.version)
        review.submit(session, faq_id, AGENT)
        faq = review.approve(session, faq_id, MANAGER, note="好")
        assert (faq.status, faq.review, faq.answer) == (FaqStatus.PUBLISHED, Review.NONE, "武侯区一环路 2 号。")
        kinds = list(session.scalars(select(FaqEvent.kind).where(FaqEvent.faq_id == faq_id).order_by(FaqEvent.id)))
        notes = {e.kind: e.note for e in history.events(session, faq_id)}
    assert kinds == ["created", "submitted", "rejected", "draft_saved", "submitted", "approved", "published"]
    assert notes["rejected"] == "地址写错了"


def test_a_manager_cannot_publish_a_global_faq_or_move_one_out_of_their_grid(settings):
    with session_scope() as session:
        faq = drafts.create_faq(session, INVOICE, MANAGER)
        with pytest.raises(NotAllowed):
            review.publish(session, faq.id, MANAGER)
        grid_faq = published(session, FaqDraft("武侯问题", [], "答案", grid="cd-wuhou"))
        drafts.save_draft(
            session,
            grid_faq.id,
            FaqDraft("武侯问题", [], "答案", grid=None),
            MANAGER,
            expected_version=grid_faq.version,
        )
        with pytest.raises(NotAllowed):
            review.publish(session, grid_faq.id, MANAGER)


def test_restore_supersedes_a_pending_draft_without_losing_it(settings):
    with session_scope() as session:
        faq = published(session)
        drafts.save_draft(session, faq.id, FaqDraft("怎么开发票", [], "草稿答案"), ADMIN, expected_version=faq.version)
        faq = review.restore(session, faq.id, 1, ADMIN)
        assert (faq.draft_version, faq.review, faq.published_version) == (None, Review.NONE, 3)
        assert [v.answer for v in history.history(session, faq.id)][1] == "草稿答案"
