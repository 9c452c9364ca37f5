"""Waiting customers told apart (issue 14, item 8): the question that led to the handoff, and the
handoff's events with people's names."""

from __future__ import annotations

import pytest

from griddesk.db import session_scope
from handoff.assignment import accept, handoff_view, my_chats
from handoff.lookups import handoff_question
from handoff.models import Handoff
from handoff.queue import grid_queue
from tests.factories import make_account, make_conversation, make_customer, make_handoff
from tests.handoff.helpers import NOW, later


@pytest.mark.parametrize(
    "summary, recent, expected",
    [
        ("宽带断网两天了", ["转人工"], "宽带断网两天了"),  # the action server's pick
        (None, ["转人工", "/affirm", "发票开错了怎么办"], "发票开错了怎么办"),  # newest first: skips the controls
        ("转人工", ["我要找人工客服", "宽带很慢"], "宽带很慢"),  # a summary that is a request for a person is not one
        (None, ["转人工"], ""),  # nothing said yet
        (None, ["您好！", "在吗?", "转人工"], ""),  # greetings say nothing either
        ("  多个   空格  ", [], "多个 空格"),
    ],
)
def test_the_question_is_the_summary_else_the_latest_message_that_is_not_a_control(summary, recent, expected):
    handoff = Handoff(packet={"summary": summary} if summary else {})
    assert handoff_question(handoff, recent) == expected


def test_long_questions_are_shortened_for_the_lists():
    question = handoff_question(Handoff(packet={"summary": "网" * 300}), [])
    assert len(question) == 120 and question.endswith("…")


def test_the_queue_and_the_chats_carry_each_customers_question(settings):
    with session_scope() as session:
        make_conversation(session, "c1", ("你好", "我家宽带从昨天开始特别慢", "转人工"), customer=make_customer())
        make_handoff(session, "c1", now=NOW)
        make_conversation(session, "c2", ("发票抬头写错了", "人工客服"))
        make_handoff(session, "c2", now=later(seconds=1), summary="发票抬头写错了")
        items = grid_queue(session, ["cd-wuhou"], later(seconds=5))
        assert [(item.question, item.preview) for item in items] == [
            ("我家宽带从昨天开始特别慢", "转人工"),
            ("发票抬头写错了", "人工客服"),
        ]
        agent = make_account(session)
        accept(session, items[0].handoff_id, agent.id, later(seconds=6))
        assert [chat.question for chat in my_chats(session, agent.id)] == ["我家宽带从昨天开始特别慢"]


def test_the_handoff_events_name_the_agent_who_acted(settings):
    with session_scope() as session:
        agent = make_account(session, display_name="张伟")
        handoff = make_handoff(session, now=NOW)
        accept(session, handoff.id, agent.id, later(seconds=1))
        events = handoff_view(session, handoff.id).events
        assert [(e["actor"], e["actor_name"]) for e in events] == [("bot", None), (f"account:{agent.id}", "张伟")]
