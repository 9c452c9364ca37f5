"""The demo knowledge base, searched with the real default encoder (USE)."""

from __future__ import annotations

import json

import pytest

from griddesk.db import session_scope
from knowledge_base.__main__ import SEED_FILE
from knowledge_base.importer import read_file, write_rows
from knowledge_base.index import Decision
from knowledge_base.search import KnowledgeBase


@pytest.fixture
def seeded_kb(settings) -> KnowledgeBase:
    with session_scope() as session:
        write_rows(session, read_file(SEED_FILE).rows)
    return KnowledgeBase(settings)


def test_seed_file_has_80_faqs_with_at_least_three_similar_questions_each():
    records = [json.loads(line) for line in SEED_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(records) >= 80
    assert all(len(r["similar_questions"]) >= 3 for r in records)
    report = read_file(SEED_FILE)
    assert report.ok, report.errors


@pytest.mark.parametrize(
    "question, expected_fragment",
    [
        ("你们的服务时间是几点到几点", "8:00"),
        ("怎么开发票", "发票"),
        ("投诉多久能处理", "1小时"),
        ("你們的電話是多少", "400-800-1234"),
    ],
)
def test_demo_questions_are_answered_with_the_right_faq(seeded_kb, question, expected_fragment):
    result = seeded_kb.search(question, k=3)
    assert result.decision is Decision.ANSWER
    assert expected_fragment in result.top.faq.answer


# Customer phrasings written for this test, found in no FAQ: the right FAQ must be in the top 3.
UNSEEN = [
    ("网速特别卡怎么回事", "网速"),
    ("我想改一下登录密码", "密码"),
    ("发票抬头写错了能改吗", "抬头"),
    ("你们晚上几点下班", "服务时间"),
    ("大客户有什么特别的服务", "重要客户"),
    ("宽带突然连不上网了", "断"),
]


@pytest.mark.parametrize("question, topic", UNSEEN)
def test_unseen_phrasings_find_their_faq_among_the_suggestions(seeded_kb, question, topic):
    hits = seeded_kb.search(question, k=3).hits
    assert any(topic in hit.faq.question for hit in hits), [h.faq.question for h in hits]
