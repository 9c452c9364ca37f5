"""Curation of FAQs: drafts, review, publishing, restore, archive, conflicts, history and diff."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from accounts.models import Role
from accounts.service import Principal
from griddesk.db import session_scope
from knowledge_base import curation
from knowledge_base.curation import FaqDraft
from knowledge_base.curation_errors import (
    FaqConflict,
    FaqNotFound,
    InvalidDraft,
    InvalidTransition,
    NotAllowed,
    NothingToPublish,
)
from knowledge_base.models import Faq, FaqEvent, FaqStatus, FaqVersion, Review
from knowledge_base.search import KnowledgeBase
from tests.encoders import HashingEncoder
from tests.factories import make_account, make_demo_faqs, make_faq

ADMIN = Principal(1, "admin", "管理员", Role.ADMIN, ())
MANAGER = Principal(2, "wuhou-mgr", "武侯经理", Role.MANAGER, ("cd-wuhou",))
OTHER_MANAGER = Principal(3, "pudong-mgr", "浦东经理", Role.MANAGER, ("sh-pudong",))
AGENT = Principal(4, "agent1", "客服一", Role.AGENT, ("cd-wuhou",))

INVOICE = FaqDraft("怎么开发票", ["如何开具发票"], "请在公众号申请电子发票。", "发票")


def published(session, draft: FaqDraft = INVOICE, actor=ADMIN) -> Faq:
    faq = curation.create_faq(session, draft, actor)
    return curation.publish(session, faq.id, actor)


def test_a_new_faq_is_a_draft_customers_do_not_see(settings):
    with session_scope() as session:
        faq = curation.create_faq(session, INVOICE, ADMIN, note="新建")
        faq_id = faq.id
        assert (faq.status, faq.draft_version, faq.published_version, faq.review) == (
            FaqStatus.DRAFT, 1, None, Review.DRAFT)
        assert faq.version == 1
    kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
    assert all(hit.faq.id != faq_id for hit in kb.search("怎么开发票", k=5).hits)


def test_saving_a_draft_keeps_the_published_content_live_until_publish(settings):
    with session_scope() as session:
        faq = published(session)
        faq_id, version = faq.id, faq.version
    with session_scope() as session:
        edited = FaqDraft("怎么开发票", ["如何开具发票", "我要开票"], "在「我的账单」中申请发票。", "发票")
        faq = curation.save_draft(session, faq_id, edited, ADMIN, expected_version=version)
        assert faq.version == version + 1
        assert (faq.draft_version, faq.published_version, faq.review) == (2, 1, Review.DRAFT)
        assert faq.answer == "请在公众号申请电子发票。"  # the live row is untouched
        assert faq.status == FaqStatus.PUBLISHED
    with session_scope() as session:
        faq = curation.publish(session, faq_id, ADMIN)
        assert faq.answer == "在「我的账单」中申请发票。"
        assert faq.similar_questions == ["如何开具发票", "我要开票"]
        assert faq.draft_version is None and faq.review == Review.NONE
        assert faq.published_version == 2
        kinds = session.scalars(select(FaqEvent.kind).where(FaqEvent.faq_id == faq_id).order_by(FaqEvent.id))
        assert list(kinds) == ["created", "published", "draft_saved", "published"]


def test_publishing_without_a_draft_is_refused(settings):
    with session_scope() as session:
        faq_id = published(session).id
    with session_scope() as session, pytest.raises(NothingToPublish) as caught:
        curation.publish(session, faq_id, ADMIN)
    assert caught.value.code == "nothing_to_publish"


def test_a_stale_expected_version_is_a_conflict_and_writes_nothing(settings):
    with session_scope() as session:
        faq_id = published(session).id
    with session_scope() as session:
        curation.save_draft(session, faq_id, INVOICE, ADMIN, expected_version=2)
    with session_scope() as session:
        versions_before = len(curation.history(session, faq_id))
        with pytest.raises(FaqConflict) as caught:
            curation.save_draft(session, faq_id, FaqDraft("旧的", [], "旧的答案"), ADMIN, expected_version=2)
        assert caught.value.code == "faq_conflict" and caught.value.current_version == 3
        session.rollback()
        assert len(curation.history(session, faq_id)) == versions_before


def test_two_admins_saving_the_same_faq_at_once_one_wins_and_nothing_is_lost(settings):
    with session_scope() as session:
        faq = published(session)
        faq_id, start = faq.id, faq.version
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def save(name: str, answer: str) -> None:
        try:
            with session_scope() as session:
                curation.get_faq(session, faq_id)  # both opened the editor at the same version
                barrier.wait(timeout=5)
                curation.save_draft(session, faq_id, FaqDraft("怎么开发票", [], answer), ADMIN,
                                    expected_version=start)
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
        newest = curation.history(session, faq_id)[0]
        faq = curation.get_faq(session, faq_id)
        assert newest.answer == f"{winner} 的答案" and newest.is_draft
        assert faq.version == start + 1
        assert len(curation.history(session, faq_id)) == 2  # the first version and the winner's draft


def test_the_index_answers_with_the_new_text_right_after_publish(settings):
    with session_scope() as session:
        make_demo_faqs(session)
        faq_id = published(session, FaqDraft("怎么注销账号", ["如何注销账户"], "请到营业厅办理注销。")).id
    kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
    assert kb.search("怎么注销账号", k=1).top.faq.answer == "请到营业厅办理注销。"
    with session_scope() as session:
        faq = curation.get_faq(session, faq_id)
        curation.save_draft(session, faq_id, FaqDraft("怎么注销账号", ["如何注销账户"], "在 App 里即可注销。"),
                            ADMIN, expected_version=faq.version)
    assert kb.search("怎么注销账号", k=1).top.faq.answer == "请到营业厅办理注销。"  # a draft is never found
    with session_scope() as session:
        curation.publish(session, faq_id, ADMIN)
    assert kb.search("怎么注销账号", k=1).top.faq.answer == "在 App 里即可注销。"
    with session_scope() as session:
        curation.archive(session, faq_id, ADMIN)
    assert all(hit.faq.id != faq_id for hit in kb.search("怎么注销账号", k=5).hits)
    with session_scope() as session:  # unarchive = publish again
        faq = curation.publish(session, faq_id, ADMIN)
        assert faq.status == FaqStatus.PUBLISHED
    assert kb.search("怎么注销账号", k=1).top.faq.id == faq_id


def test_publishing_changes_the_updated_at_stamp_the_search_service_watches(settings):
    with session_scope() as session:
        faq = curation.create_faq(session, INVOICE, ADMIN)
        faq_id, before = faq.id, faq.updated_at
    with session_scope() as session:
        assert curation.publish(session, faq_id, ADMIN).updated_at > before


def test_restore_publishes_an_old_version_as_a_new_one_in_one_step(settings):
    with session_scope() as session:
        faq_id = published(session).id
    with session_scope() as session:
        curation.save_draft(session, faq_id, FaqDraft("怎么开发票", [], "新的答案"), ADMIN, expected_version=2)
        curation.publish(session, faq_id, ADMIN)
    with session_scope() as session:
        faq = curation.restore(session, faq_id, 1, ADMIN)
        assert faq.answer == INVOICE.answer and faq.published_version == 3
        views = curation.history(session, faq_id)
        assert [v.number for v in views] == [3, 2, 1]
        assert views[0].source == "restore" and views[0].is_published and "版本 1" in views[0].note
        assert views[1].answer == "新的答案"  # nothing is lost


def test_versions_and_events_cannot_be_changed_or_deleted(settings):
    with session_scope() as session:
        faq_id = published(session).id
    for statement in ("UPDATE kb_faq_version SET answer = 'x'", "DELETE FROM kb_faq_version",
                      "UPDATE kb_faq_event SET note = 'x'", "DELETE FROM kb_faq_event"):
        with pytest.raises(DatabaseError, match="append-only"), session_scope() as session:
            session.execute(text(statement))
    with session_scope() as session:
        assert session.scalar(select(FaqVersion.answer).where(FaqVersion.faq_id == faq_id)) == INVOICE.answer


def test_the_diff_shows_character_edits_per_field(settings):
    with session_scope() as session:
        faq_id = published(session).id
        curation.save_draft(session, faq_id, FaqDraft("怎么开发票", ["如何开具发票", "我要开票"],
                                                     "请在公众号申请纸质发票。", "发票"), ADMIN, expected_version=2)
        diffs = {d.field: d for d in curation.diff(session, faq_id, 1, 2)}
    assert set(diffs) == {"question", "similar_questions", "answer", "category", "grid"}
    assert not diffs["question"].changed and diffs["question"].ops == [("equal", "怎么开发票")]
    assert ("delete", "电子") in diffs["answer"].ops and ("insert", "纸质") in diffs["answer"].ops
    assert diffs["similar_questions"].after == "如何开具发票\n我要开票"
    assert ("insert", "\n我要开票") in diffs["similar_questions"].ops


def test_invalid_drafts_name_the_field(settings):
    cases = [
        (FaqDraft("", [], "答案"), "question"),
        (FaqDraft("问题", [], "  "), "answer"),
        (FaqDraft("问题", [], "=HYPERLINK(\"http://x\")"), "answer"),
        (FaqDraft("问题", ["a|b"], "答案"), "similar_questions"),
        (FaqDraft("问" * 501, [], "答案"), "question"),
        (FaqDraft("问题", [], "答案", overrides_id=1), "overrides_id"),
    ]
    for draft, field in cases:
        with pytest.raises(InvalidDraft) as caught:
            curation.validate_draft(draft)
        assert caught.value.field == field and caught.value.code == "invalid_draft"
    clean = curation.validate_draft(FaqDraft(" 问题 ", ["问题", "相似", "相似", ""], "- 第一步\n- 第二步"))
    assert clean.question == "问题" and clean.similar_questions == ["相似"]
    assert clean.answer.startswith("- 第一步")  # a Markdown list is not a formula


def test_a_grid_override_must_point_at_a_global_faq(settings):
    with session_scope() as session:
        global_faq = published(session)
        grid_faq = published(session, FaqDraft("武侯怎么开发票", [], "到武侯营业厅。", grid="cd-wuhou"))
        with pytest.raises(InvalidDraft) as caught:
            curation.create_faq(session, FaqDraft("q", [], "a", grid="cd-jinjiang", overrides_id=grid_faq.id), ADMIN)
        assert caught.value.field == "overrides_id"
        with pytest.raises(InvalidDraft, match="网格"):
            curation.create_faq(session, FaqDraft("q", [], "a", grid="no-such-grid"), ADMIN)
        override = curation.create_faq(session, FaqDraft("怎么开发票", [], "武侯客户请到武侯营业厅开票。",
                                                         grid="cd-wuhou", overrides_id=global_faq.id), ADMIN)
        curation.publish(session, override.id, MANAGER)
    kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
    assert kb.search("怎么开发票", k=1, grid="cd-wuhou").top.faq.answer == "武侯客户请到武侯营业厅开票。"
    assert kb.search("怎么开发票", k=1, grid="sh-pudong").top.faq.answer == INVOICE.answer


def test_may_publish_follows_role_and_grid():
    wuhou = Faq(grid="cd-wuhou")
    global_faq = Faq(grid=None)
    assert curation.may_publish(ADMIN, global_faq) and curation.may_publish(ADMIN, wuhou)
    assert curation.may_publish(MANAGER, wuhou) and not curation.may_publish(MANAGER, global_faq)
    assert not curation.may_publish(OTHER_MANAGER, wuhou)
    assert not curation.may_publish(AGENT, wuhou)


def test_a_grid_draft_goes_through_the_grid_managers_review(settings):
    draft = FaqDraft("武侯营业厅在哪", [], "武侯区一环路 1 号。", grid="cd-wuhou")
    with session_scope() as session:
        faq = curation.create_faq(session, draft, AGENT)
        faq_id = faq.id
        with pytest.raises(NotAllowed):
            curation.publish(session, faq_id, AGENT)
        with pytest.raises(InvalidTransition):
            curation.approve(session, faq_id, MANAGER)  # not submitted yet
        curation.submit(session, faq_id, AGENT)
        assert curation.get_faq(session, faq_id).review == Review.PENDING
        with pytest.raises(InvalidTransition):
            curation.submit(session, faq_id, AGENT)
        with pytest.raises(NotAllowed):
            curation.approve(session, faq_id, OTHER_MANAGER)
        with pytest.raises(InvalidDraft):
            curation.reject(session, faq_id, MANAGER, note=" ")
        faq = curation.reject(session, faq_id, MANAGER, note="地址写错了")
        assert faq.review == Review.REJECTED and faq.status == FaqStatus.DRAFT
        fixed = FaqDraft("武侯营业厅在哪", [], "武侯区一环路 2 号。", grid="cd-wuhou")
        curation.save_draft(session, faq_id, fixed, AGENT, expected_version=faq.version)
        curation.submit(session, faq_id, AGENT)
        faq = curation.approve(session, faq_id, MANAGER, note="好")
        assert (faq.status, faq.review, faq.answer) == (FaqStatus.PUBLISHED, Review.NONE, "武侯区一环路 2 号。")
        kinds = list(session.scalars(select(FaqEvent.kind).where(FaqEvent.faq_id == faq_id).order_by(FaqEvent.id)))
        notes = {e.kind: e.note for e in curation.events(session, faq_id)}
    assert kinds == ["created", "submitted", "rejected", "draft_saved", "submitted", "approved", "published"]
    assert notes["rejected"] == "地址写错了"


def test_a_manager_cannot_publish_a_global_faq_or_move_one_out_of_their_grid(settings):
    with session_scope() as session:
        faq = curation.create_faq(session, INVOICE, MANAGER)
        with pytest.raises(NotAllowed):
            curation.publish(session, faq.id, MANAGER)
        grid_faq = published(session, FaqDraft("武侯问题", [], "答案", grid="cd-wuhou"))
        curation.save_draft(session, grid_faq.id, FaqDraft("武侯问题", [], "答案", grid=None), MANAGER,
                            expected_version=grid_faq.version)
        with pytest.raises(NotAllowed):
            curation.publish(session, grid_faq.id, MANAGER)


def test_history_names_the_authors(settings):
    with session_scope() as session:
        account = make_account(session, "editor", Role.ADMIN, display_name="编辑小王")
        editor = Principal(account.id, "editor", "编辑小王", Role.ADMIN, ())
        faq_id = published(session, actor=editor).id
        views = curation.history(session, faq_id)
        events = curation.events(session, faq_id)
    assert views[0].author == f"account:{account.id}" and views[0].author_name == "编辑小王"
    assert events[0].kind == "published" and events[0].actor_name == "编辑小王"


def test_an_faq_from_before_versions_gets_its_live_content_as_version_one(settings):
    with session_scope() as session:
        faq = make_faq(session, "客服电话是多少", answer="400-800-1234", category="渠道")
        faq_id = faq.id
        curation.save_draft(session, faq_id, FaqDraft("客服电话是多少", [], "400-800-5678"), ADMIN,
                            expected_version=faq.version)
        views = curation.history(session, faq_id)
    assert [(v.number, v.answer, v.is_published, v.is_draft) for v in views] == [
        (2, "400-800-5678", False, True), (1, "400-800-1234", True, False)]


def test_add_similar_question_publishes_for_an_admin_and_drafts_for_an_agent(settings):
    with session_scope() as session:
        faq = published(session, FaqDraft("武侯营业厅在哪", [], "一环路 1 号。", grid="cd-wuhou"))
        faq = curation.add_similar_question(session, faq.id, "武侯营业厅地址", ADMIN)
        assert faq.similar_questions == ["武侯营业厅地址"] and faq.draft_version is None
        same = curation.add_similar_question(session, faq.id, "武侯营业厅地址 ", ADMIN)
        assert same.version == faq.version  # nothing new: nothing written
        faq = curation.add_similar_question(session, faq.id, "营业厅在什么位置", AGENT)
        assert faq.similar_questions == ["武侯营业厅地址"]  # live content unchanged
        assert faq.review == Review.DRAFT
        assert curation.draft_of(session, faq).similar_questions == ["武侯营业厅地址", "营业厅在什么位置"]


def test_find_faqs_filters_by_text_category_grid_status_and_review(settings):
    with session_scope() as session:
        make_demo_faqs(session)
        grid_faq = published(session, FaqDraft("武侯营业厅在哪", ["武侯营业厅地址"], "一环路。", "网点", "cd-wuhou"))
        draft = curation.create_faq(session, FaqDraft("怎么注销", [], "营业厅办理。", "账户与密码"), ADMIN)
        assert [f.id for f in curation.find_faqs(session, text="营业厅地址")[0]] == [grid_faq.id]  # a similar q
        faqs, total = curation.find_faqs(session, text="发票")
        assert total == 1 and faqs[0].question == "怎么开发票"
        assert curation.find_faqs(session, grid="cd-wuhou")[1] == 1
        assert curation.find_faqs(session, grid="global")[1] == 6
        assert [f.id for f in curation.find_faqs(session, status="draft")[0]] == [draft.id]
        assert [f.id for f in curation.find_faqs(session, review="draft")[0]] == [draft.id]
        assert curation.find_faqs(session, category="账户与密码")[1] == 2
        assert curation.find_faqs(session, visible_grids=["sh-pudong"])[1] == 6
        page, total = curation.find_faqs(session, limit=2, offset=2)
        assert len(page) == 2 and total == 7
        assert curation.find_faqs(session, text="100%")[1] == 0


def test_unknown_faqs_are_not_found(settings):
    with session_scope() as session:
        with pytest.raises(FaqNotFound) as caught:
            curation.save_draft(session, 999, INVOICE, ADMIN, expected_version=1)
        assert caught.value.code == "faq_not_found"
        with pytest.raises(FaqNotFound):
            curation.history(session, 999)


def test_restore_supersedes_a_pending_draft_without_losing_it(settings):
    with session_scope() as session:
        faq = published(session)
        curation.save_draft(session, faq.id, FaqDraft("怎么开发票", [], "草稿答案"), ADMIN,
                            expected_version=faq.version)
        faq = curation.restore(session, faq.id, 1, ADMIN)
        assert (faq.draft_version, faq.review, faq.published_version) == (None, Review.NONE, 3)
        assert [v.answer for v in curation.history(session, faq.id)][1] == "草稿答案"


def test_a_draft_with_wrong_types_is_invalid_not_a_crash():
    cases = [
        (FaqDraft(5, [], "答案"), "question"),
        (FaqDraft("问题", "不是列表", "答案"), "similar_questions"),
        (FaqDraft("问题", [], "答案", grid="cd-wuhou", overrides_id="1"), "overrides_id"),
    ]
    for draft, field in cases:
        with pytest.raises(InvalidDraft) as caught:
            curation.validate_draft(draft)
        assert caught.value.field == field
