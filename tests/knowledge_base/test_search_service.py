import pytest
from sqlalchemy import func, select

from griddesk.db import session_scope
from knowledge_base.index import Decision
from knowledge_base.models import Embedding, FaqStatus
from knowledge_base.search import KnowledgeBase, QueryError
from tests.encoders import HashingEncoder
from tests.factories import DEMO_FAQS, make_demo_faqs, make_faq


def test_search_answers_from_published_faqs_only(settings):
    with session_scope() as session:
        make_demo_faqs(session)
        make_faq(session, "发票草稿问题", answer="草稿", status=FaqStatus.DRAFT)
    kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
    result = kb.search("如何开具发票", k=3)
    assert result.decision is Decision.ANSWER
    assert result.top.faq.question == "怎么开发票"
    assert all(hit.faq.answer != "草稿" for hit in kb.search("发票草稿问题", k=5).hits)


def test_vectors_are_cached_so_a_restart_encodes_nothing(settings):
    with session_scope() as session:
        make_demo_faqs(session)
    first = HashingEncoder()
    KnowledgeBase(settings, first).index()
    rows = sum(len(similar) + 1 for _, similar, _, _ in DEMO_FAQS)
    assert first.encoded == rows
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Embedding)) == rows
    restarted = HashingEncoder()
    KnowledgeBase(settings, restarted).index()
    assert restarted.encoded == 0


def test_cache_is_keyed_by_encoder_name(settings):
    with session_scope() as session:
        make_demo_faqs(session)
    KnowledgeBase(settings, HashingEncoder(name="one")).index()
    other = HashingEncoder(name="two")
    KnowledgeBase(settings, other).index()
    assert other.encoded > 0


def test_index_refreshes_after_a_change_and_encodes_only_the_new_text(settings):
    with session_scope() as session:
        make_demo_faqs(session)
    encoder = HashingEncoder()
    kb = KnowledgeBase(settings, encoder, refresh_seconds=0)
    before = kb.index()
    encoded = encoder.encoded
    with session_scope() as session:
        make_faq(session, "怎么注销账号", answer="请到营业厅办理注销。")
    after = kb.index()
    assert after is not before and len(after) == len(before) + 1
    assert encoder.encoded == encoded + 1
    assert kb.search("怎么注销账号", k=1).top.faq.answer == "请到营业厅办理注销。"
    assert kb.index() is after  # nothing changed: the same index is served


@pytest.mark.parametrize("text, k", [("", 3), ("   ", 3), ("x" * 5000, 3), ("发票", 0), ("发票", 21)])
def test_invalid_queries_raise_query_error(settings, text, k):
    kb = KnowledgeBase(settings, HashingEncoder())
    with pytest.raises(QueryError):
        kb.search(text, k=k)


def test_the_answer_margin_comes_from_the_environment(settings, monkeypatch):
    from griddesk.settings import load_settings

    with session_scope() as session:
        make_faq(session, "怎么开发票", ["如何开具发票"])
        make_faq(session, "怎么开发票呢", ["发票怎么开呢"])
    assert (
        KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0).search("怎么开发票").decision is Decision.SUGGEST
    )
    monkeypatch.setenv("GRIDDESK_KB_ANSWER_MARGIN", "0")
    lenient = load_settings()
    assert lenient.kb_answer_margin == 0.0
    assert KnowledgeBase(lenient, HashingEncoder(), refresh_seconds=0).search("怎么开发票").decision is Decision.ANSWER
