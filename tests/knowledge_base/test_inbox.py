"""The unanswered inbox: grouping by meaning, and turning items into similar questions or drafts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from accounts.models import Role
from accounts.principals import Principal
from griddesk.db import session_scope
from knowledge_base import history, inbox
from knowledge_base.curation import base, drafts, review
from knowledge_base.curation.base import FaqDraft
from knowledge_base.curation_errors import InboxItemsNotFound
from knowledge_base.models import Faq, FaqStatus, Miss, Review
from knowledge_base.search import KnowledgeBase
from tests.encoders import HashingEncoder

ADMIN = Principal(1, "admin", "管理员", Role.ADMIN, ())
AGENT = Principal(4, "agent1", "客服一", Role.AGENT, ("cd-wuhou",))
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def add_miss(
    session,
    text: str,
    kind: str = "miss",
    minutes: int = 0,
    top_faq_id: int | None = None,
    proposed_answer: str | None = None,
) -> int:
    from griddesk.text import normalize

    miss = Miss(
        text=text,
        normalized=normalize(text),
        decision="fallback",
        kind=kind,
        top_faq_id=top_faq_id,
        proposed_answer=proposed_answer,
        created_at=T0 + timedelta(minutes=minutes),
    )
    session.add(miss)
    session.flush()
    return miss.id


def published_faq(session, question: str = "怎么修改密码", similar: list[str] | None = None) -> int:
    faq = drafts.create_faq(session, FaqDraft(question, similar or [], "在「账户安全」中修改。"), ADMIN)
    return review.publish(session, faq.id, ADMIN).id


def test_open_items_are_grouped_by_meaning_biggest_group_first(settings):
    with session_scope() as session:
        faq_id = published_faq(session)
        add_miss(session, "宽带断网了怎么办", minutes=1)
        add_miss(session, "宽带断网了怎么办?", kind="low_confidence", minutes=2, top_faq_id=faq_id)
        add_miss(session, "宽带断网了怎么办呀", kind="unhelpful", minutes=3, top_faq_id=faq_id)
        add_miss(session, "发票抬头写错了", minutes=10)
        add_miss(session, "发票抬头写错了怎么改", minutes=11)
        closed = add_miss(session, "宽带断网了", minutes=12)
        inbox.dismiss(session, [closed], ADMIN)
    with session_scope() as session:
        groups = inbox.clusters(session, HashingEncoder(), threshold=0.7)
    assert [c.size for c in groups] == [3, 2]
    broadband = groups[0]
    assert broadband.representative == "宽带断网了怎么办"  # the most frequent phrasing (2 of 3 normalise alike)
    assert broadband.kinds == {"miss": 1, "low_confidence": 1, "unhelpful": 1}
    assert broadband.top_faq_id == faq_id
    assert [i.text for i in broadband.items] == ["宽带断网了怎么办呀", "宽带断网了怎么办?", "宽带断网了怎么办"]
    assert closed not in broadband.as_dict()["item_ids"]


def test_unrelated_questions_stay_apart_and_ties_go_to_the_newest(settings):
    with session_scope() as session:
        add_miss(session, "发票抬头写错了", minutes=1)
        add_miss(session, "宽带断网了怎么办", minutes=5)
    with session_scope() as session:
        groups = inbox.clusters(session, HashingEncoder(), threshold=0.8)
    assert [c.representative for c in groups] == ["宽带断网了怎么办", "发票抬头写错了"]
    with session_scope() as session:
        assert inbox.clusters(session, HashingEncoder(), limit=1)[0].size == 1


def test_resolving_as_similar_adds_the_phrasings_and_the_next_customer_gets_the_answer(settings):
    with session_scope() as session:
        faq_id = published_faq(session, similar=["密码怎么改"])
        ids = [
            add_miss(session, "登录口令忘了咋整"),
            add_miss(session, "登录口令忘了咋整!"),
            add_miss(session, "密码怎么改"),
            add_miss(session, "口令如何重置"),
        ]
    kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
    assert kb.search("登录口令忘了咋整", k=1).decision != "answer"
    with session_scope() as session:
        faq = inbox.resolve_as_similar(session, ids, faq_id, ADMIN)
        assert faq.similar_questions == ["密码怎么改", "登录口令忘了咋整", "口令如何重置"]
        assert faq.status == FaqStatus.PUBLISHED and faq.draft_version is None
        resolutions = [m.resolution for m in session.scalars(select(Miss).order_by(Miss.id))]
        assert all(r == {"action": "similar", "faq_id": faq_id, "by": "account:1"} for r in resolutions)
    result = kb.search("登录口令忘了咋整", k=1)
    assert result.top.faq.id == faq_id and result.decision == "answer"
    with session_scope() as session:
        assert inbox.clusters(session, HashingEncoder()) == []
        with pytest.raises(InboxItemsNotFound):
            inbox.resolve_as_similar(session, ids, faq_id, ADMIN)


def test_an_agent_resolving_as_similar_leaves_a_draft(settings):
    with session_scope() as session:
        faq_id = published_faq(session)
        ids = [add_miss(session, "口令如何重置")]
        faq = inbox.resolve_as_similar(session, ids, faq_id, AGENT)
        assert faq.similar_questions == [] and faq.review == Review.DRAFT
        assert base.draft_of(session, faq).similar_questions == ["口令如何重置"]


def test_resolving_as_draft_starts_a_new_faq_with_the_agents_answer(settings):
    with session_scope() as session:
        first = inbox.propose_agent_answer(session, "发票抬头写错了怎么办", "联系客服作废后重开。", "c1", "cd-wuhou")
        second = add_miss(session, "发票抬头写错了", minutes=30)
        assert inbox.propose_agent_answer(session, "  ", "答案") is None
        faq = inbox.resolve_as_draft(session, [first.id, second], ADMIN)
        assert (faq.status, faq.review, faq.answer) == (FaqStatus.DRAFT, Review.DRAFT, "联系客服作废后重开。")
        assert faq.question in ("发票抬头写错了", "发票抬头写错了怎么办") and len(faq.similar_questions) == 1
        assert history.history(session, faq.id)[0].source == "agent_answer"
        assert session.get(Miss, second).resolution == {"action": "draft", "faq_id": faq.id, "by": "account:1"}


def test_resolving_as_draft_without_an_answer_uses_the_placeholder_or_the_given_answer(settings):
    with session_scope() as session:
        plain = inbox.resolve_as_draft(session, [add_miss(session, "能开增值税专票吗")], ADMIN)
        given = inbox.resolve_as_draft(session, [add_miss(session, "能开普票吗")], ADMIN, answer="可以。")
        assert plain.answer == inbox.PLACEHOLDER_ANSWER and given.answer == "可以。"
        assert history.history(session, plain.id)[0].source == "inbox"


def test_unhelpful_answers_are_logged_with_their_faq_and_dismissed_items_leave_the_inbox(settings):
    with session_scope() as session:
        faq_id = published_faq(session)
        item = inbox.log_unhelpful(session, "密码改不了", faq_id, "c1", "cd-wuhou")
        ghost = inbox.log_unhelpful(session, "密码改不了", 999)
        assert (item.kind, item.top_faq_id, item.grid) == ("unhelpful", faq_id, "cd-wuhou")
        assert ghost.top_faq_id is None
        assert inbox.dismiss(session, [item.id, ghost.id], ADMIN) == 2
        assert session.get(Miss, item.id).resolution == {"action": "dismissed", "by": "account:1"}
        assert inbox.clusters(session, HashingEncoder()) == []


def test_a_scoped_inbox_holds_its_grids_items_and_gridless_questions_but_no_other_grids_answers(settings):
    with session_scope() as session:
        texts = {
            "cd-wuhou": "宽带断网了怎么办",
            "sh-pudong": "发票抬头写错了",
            None: "营业厅几点开门",
        }
        for grid, text in texts.items():
            session.add(Miss(text=text, normalized=text, decision="fallback", kind="miss", grid=grid))
        session.add(
            Miss(
                text="停机保号怎么办",
                normalized="停机保号怎么办",
                decision="agent",
                kind="agent_answer",
                proposed_answer="在公众号办理。",
                grid="sh-pudong",
            )
        )
        session.add(
            Miss(
                text="积分怎么兑换",
                normalized="积分怎么兑换",
                decision="agent",
                kind="agent_answer",
                proposed_answer="在 App 里兑换。",
                grid=None,
            )
        )
        session.add(
            Miss(
                text="网速很慢",
                normalized="网速很慢",
                decision="agent",
                kind="agent_answer",
                proposed_answer="请重启光猫。",
                grid="cd-wuhou",
            )
        )
    with session_scope() as session:
        everything = {i.text for c in inbox.clusters(session, HashingEncoder(), threshold=0.99) for i in c.items}
        mine = {
            i.text
            for c in inbox.clusters(session, HashingEncoder(), threshold=0.99, grids=["cd-wuhou"])
            for i in c.items
        }
    assert len(everything) == 6
    assert mine == {"宽带断网了怎么办", "营业厅几点开门", "网速很慢"}


def open_ids(session) -> set[int]:
    return set(session.scalars(select(Miss.id).where(Miss.resolved_at.is_(None))))


def test_items_the_knowledge_base_has_come_to_answer_leave_the_inbox(settings):
    from knowledge_base.importer import FaqRow, write_rows

    kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
    with session_scope() as session:
        published_faq(session)
        missed = add_miss(session, "发票抬头写错了怎么办")
        suggested = add_miss(session, "发票抬头写错了怎么办", kind="low_confidence", minutes=1)
        proposed = inbox.propose_agent_answer(session, "发票抬头写错了怎么办", "联系客服作废后重开。").id
        other = add_miss(session, "宽带能不能暂停一个月", minutes=2)
    with session_scope() as session:
        assert inbox.retire_answered(session, kb.index(), HashingEncoder()) == 0
    with session_scope() as session:  # the FAQ arrives by an import
        row = FaqRow(2, "发票抬头写错了怎么办", "作废后重开。", (), "发票", None, "invoice-title")
        write_rows(session, [row])
    with session_scope() as session:
        assert inbox.retire_answered(session, kb.index(), HashingEncoder()) == 3
        assert open_ids(session) == {other}
        faq_id = session.scalar(select(Faq.id).where(Faq.external_id == "invoice-title"))
        resolutions = {session.get(Miss, i).resolution["action"] for i in (missed, suggested, proposed)}
        assert resolutions == {"answered"}
        assert session.get(Miss, missed).resolution == {"action": "answered", "by": "system", "faq_id": faq_id}
        assert inbox.clusters(session, HashingEncoder())[0].representative == "宽带能不能暂停一个月"


def test_an_unhelpful_mark_stays_until_its_faq_is_published_again(settings):
    kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
    with session_scope() as session:
        faq_id = published_faq(session)
        item = inbox.log_unhelpful(session, "怎么修改密码", faq_id, "c1").id
    with session_scope() as session:
        assert inbox.retire_answered(session, kb.index(), HashingEncoder()) == 0  # the same answer, unchanged
    with session_scope() as session:
        faq = session.get(Faq, faq_id)
        drafts.save_draft(
            session,
            faq_id,
            FaqDraft("怎么修改密码", [], "登录后在「账户安全」→「修改密码」中修改。"),
            ADMIN,
            faq.version,
        )
        review.publish(session, faq_id, ADMIN)
    with session_scope() as session:
        assert inbox.retire_answered(session, kb.index(), HashingEncoder()) == 1
        assert item not in open_ids(session)


def test_a_cluster_names_its_closest_faq_by_its_question(settings):
    with session_scope() as session:
        faq_id = published_faq(session)
        add_miss(session, "密码改不了", kind="low_confidence", top_faq_id=faq_id)
    with session_scope() as session:
        [cluster] = inbox.clusters(session, HashingEncoder())
    assert cluster.as_dict()["top_faq_question"] == "怎么修改密码" and cluster.top_faq_id == faq_id
