"""Curation drafts: creating FAQs, saving drafts (conflicts included), validation, similar questions."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from griddesk.db import session_scope
from knowledge_base import history
from knowledge_base.curation import base, drafts, review
from knowledge_base.curation.base import FaqDraft
from knowledge_base.curation_errors import (
    FaqConflict,
    FaqNotFound,
    InvalidDraft,
)
from knowledge_base.models import FaqEvent, FaqStatus, Review
from knowledge_base.search import KnowledgeBase
from tests.encoders import HashingEncoder
from tests.factories import make_faq
from tests.knowledge_base.curation.common import ADMIN, AGENT, INVOICE, MANAGER, published


def test_a_new_faq_is_a_draft_customers_do_not_see(settings):
    with session_scope() as session:
        faq = drafts.create_faq(session, INVOICE, ADMIN, note="新建")
        faq_id = faq.id
        assert (faq.status, faq.draft_version, faq.published_version, faq.review) == (
            FaqStatus.DRAFT,
            1,
            None,
            Review.DRAFT,
        )
        assert faq.version == 1
    kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
    assert all(hit.faq.id != faq_id for hit in kb.search("怎么开发票", k=5).hits)


def test_saving_a_draft_keeps_the_published_content_live_until_publish(settings):
    with session_scope() as session:
        faq = published(session)
        faq_id, version = faq.id, faq.version
    with session_scope() as session:
        edited = FaqDraft("怎么开发票", ["如何开具发票", "我要开票"], "在「我的账单」中申请发票。", "发票")
        faq = drafts.save_draft(session, faq_id, edited, ADMIN, expected_version=version)
        assert faq.version == version + 1
        assert (faq.draft_version, faq.published_version, faq.review) == (2, 1, Review.DRAFT)
        assert faq.answer == "请在公众号申请电子发票。"  # the live row is untouched
        assert faq.status == FaqStatus.PUBLISHED
    with session_scope() as session:
        faq = review.publish(session, faq_id, ADMIN)
        assert faq.answer == "在「我的账单」中申请发票。"
        assert faq.similar_questions == ["如何开具发票", "我要开票"]
        assert faq.draft_version is None and faq.review == Review.NONE
        assert faq.published_version == 2
        kinds = session.scalars(select(FaqEvent.kind).where(FaqEvent.faq_id == faq_id).order_by(FaqEvent.id))
        assert list(kinds) == ["created", "published", "draft_saved", "published"]


def test_a_stale_expected_version_is_a_conflict_and_writes_nothing(settings):
    with session_scope() as session:
        faq_id = published(session).id
    with session_scope() as session:
        drafts.save_draft(session, faq_id, INVOICE, ADMIN, expected_version=2)
    with session_scope() as session:
        versions_before = len(history.history(session, faq_id))
        with pytest.raises(FaqConflict) as caught:
            drafts.save_draft(session, faq_id, FaqDraft("旧的", [], "旧的答案"), ADMIN, expected_version=2)
        assert caught.value.code == "faq_conflict" and caught.value.current_version == 3
        session.rollback()
        assert len(history.history(session, faq_id)) == versions_before


def test_two_admins_saving_the_same_faq_at_once_one_wins_and_nothing_is_lost(settings):
    with session_scope() as session:
        faq = published(session)
        faq_id, start = faq.id, faq.version
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def save(name: str, answer: str) -> None:
        try:
            with session_scope() as session:
                base.get_faq(session, faq_id)  # both opened the editor at the same version
                barrier.wait(timeout=5)
                drafts.save_draft(session, faq_id, FaqDraft("怎么开发票", [], answer), ADMIN, expected_version=start)
            outcomes[name] = "saved"
        except FaqConflict as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=save, args=(n, f"{n} 的答案")) for n in ("甲", "乙")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(type(o).__name__ for o in outcomes.values()) == ["FaqConflict", "str"]
    winner = next(name for name, outcome in outcomes.items() if outcome == "saved")
    with session_scope() as session:
        newest = history.history(session, faq_id)[0]
        faq = base.get_faq(session, faq_id)
        assert newest.answer == f"{winner} 的答案" and newest.is_draft
        assert faq.version == start + 1
        assert len(history.history(session, faq_id)) == 2  # the first version and the winner's draft


def test_invalid_drafts_name_the_field(settings):
    cases = [
        (FaqDraft("", [], "答案"), "question"),
        (FaqDraft("问题", [], "  "), "answer"),
        (FaqDraft("问题", [], '=HYPERLINK("http://x")'), "answer"),
        (FaqDraft("问题", ["a|b"], "答案"), "similar_questions"),
        (FaqDraft("问" * 501, [], "答案"), "question"),
        (FaqDraft("问题", [], "答案", overrides_id=1), "overrides_id"),
    ]
    for draft, field in cases:
        with pytest.raises(InvalidDraft) as caught:
            drafts.validate_draft(draft)
        assert caught.value.field == field and caught.value.code == "invalid_draft"
    clean = drafts.validate_draft(FaqDraft(" 问题 ", ["问题", "相似", "相似", ""], "- 第一步\n- 第二步"))
    assert clean.question == "问题" and clean.similar_questions == ["相似"]
    assert clean.answer.startswith("- 第一步")  # a Markdown list is not a formula


def test_a_grid_override_must_point_at_a_global_faq(settings):
    with session_scope() as session:
        global_faq = published(session)
        grid_faq = published(session, FaqDraft("武侯怎么开发票", [], "到武侯营业厅。", grid="cd-wuhou"))
        with pytest.raises(InvalidDraft) as caught:
            drafts.create_faq(session, FaqDraft("q", [], "a", grid="cd-jinjiang", overrides_id=grid_faq.id), ADMIN)
        assert caught.value.field == "overrides_id"
        with pytest.raises(InvalidDraft, match="网格"):
            drafts.create_faq(session, FaqDraft("q", [], "a", grid="no-such-grid"), ADMIN)
        override = drafts.create_faq(
            session,
            FaqDraft("怎么开发票", [], "武侯客户请到武侯营业厅开票。", grid="cd-wuhou", overrides_id=global_faq.id),
            ADMIN,
        )
        review.publish(session, override.id, MANAGER)
    kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
    assert kb.search("怎么开发票", k=1, grid="cd-wuhou").top.faq.answer == "武侯客户请到武侯营业厅开票。"
    assert kb.search("怎么开发票", k=1, grid="sh-pudong").top.faq.answer == INVOICE.answer


def test_an_faq_from_before_versions_gets_its_live_content_as_version_one(settings):
    with session_scope() as session:
        faq = make_faq(session, "客服电话是多少", answer="400-800-1234", category="渠道")
        faq_id = faq.id
        drafts.save_draft(
            session, faq_id, FaqDraft("客服电话是多少", [], "400-800-5678"), ADMIN, expected_version=faq.version
        )
        views = history.history(session, faq_id)
    assert [(v.number, v.answer, v.is_published, v.is_draft) for v in views] == [
        (2, "400-800-5678", False, True),
        (1, "400-800-1234", True, False),
    ]


def test_add_similar_question_publishes_for_an_admin_and_drafts_for_an_agent(settings):
    with session_scope() as session:
        faq = published(session, FaqDraft("武侯营业厅在哪", [], "一环路 1 号。", grid="cd-wuhou"))
        faq = drafts.add_similar_question(session, faq.id, "武侯营业厅地址", ADMIN)
        assert faq.similar_questions == ["武侯营业厅地址"] and faq.draft_version is None
        same = drafts.add_similar_question(session, faq.id, "武侯营业厅地址 ", ADMIN)
        assert same.version == faq.version  # nothing new: nothing written
        faq = drafts.add_similar_question(session, faq.id, "营业厅在什么位置", AGENT)
        assert faq.similar_questions == ["武侯营业厅地址"]  # live content unchanged
        assert faq.review == Review.DRAFT
        assert base.draft_of(session, faq).similar_questions == ["武侯营业厅地址", "营业厅在什么位置"]


def test_unknown_faqs_are_not_found(settings):
    with session_scope() as session:
        with pytest.raises(FaqNotFound) as caught:
            drafts.save_draft(session, 999, INVOICE, ADMIN, expected_version=1)
        assert caught.value.code == "faq_not_found"
        with pytest.raises(FaqNotFound):
            history.history(session, 999)


def test_a_draft_with_wrong_types_is_invalid_not_a_crash():
    cases = [
        (FaqDraft(5, [], "答案"), "question"),
        (FaqDraft("问题", "不是列表", "答案"), "similar_questions"),
        (FaqDraft("问题", [], "答案", grid="cd-wuhou", overrides_id="1"), "overrides_id"),
    ]
    for draft, field in cases:
        with pytest.raises(InvalidDraft) as caught:
            drafts.validate_draft(draft)
        assert caught.value.field == field
