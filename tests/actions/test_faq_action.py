"""action_answer_faq on tracker snapshots (tests/actions/data), with the real knowledge-base service."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.faq import ActionAnswerFaq
from actions.human import ActionRequestHuman
from griddesk.db import session_scope
from knowledge_base import search as search_module
from knowledge_base.index import Thresholds
from knowledge_base.models import Miss
from knowledge_base.search import KnowledgeBase
from tests.encoders import HashingEncoder
from tests.factories import make_demo_faqs

SNAPSHOT = json.loads((Path(__file__).parent / "data" / "ask_faq_tracker.json").read_text(encoding="utf-8"))


@pytest.fixture
def kb(settings, monkeypatch) -> KnowledgeBase:
    with session_scope() as session:
        make_demo_faqs(session)
    kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
    kb.thresholds = Thresholds(answer=0.8, suggest=0.3)
    monkeypatch.setattr(search_module, "_kb", kb)
    return kb


def tracker(text: str, intent: str = "ask_faq", entities: list[dict] | None = None) -> Tracker:
    state = copy.deepcopy(SNAPSHOT)
    state["latest_message"].update(text=text, intent={"name": intent, "confidence": 0.9}, entities=entities or [])
    state["events"][-1].update(text=text)
    return Tracker.from_dict(state)


async def run(action, text: str, **kwargs) -> tuple[list, CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker(text, **kwargs), {})
    return events, dispatcher


def misses() -> list[Miss]:
    with session_scope() as session:
        return list(session.scalars(select(Miss)))


async def test_a_confident_match_is_answered_with_the_faq_answer(kb):
    events, dispatcher = await run(ActionAnswerFaq(), "如何开具发票")
    assert events == []
    [message] = dispatcher.messages
    assert message["response"] == "utter_faq_answer"
    assert message["answer"] == "请在微信公众号「我的账单」中申请电子发票。"
    assert misses() == []


async def test_a_middling_match_offers_three_candidates_and_none_of_these(kb):
    _, dispatcher = await run(ActionAnswerFaq(), "发票相关")
    [message] = dispatcher.messages
    assert message["response"] == "utter_faq_suggest"
    buttons = message["buttons"]
    assert len(buttons) == 4
    assert buttons[0]["title"] == "怎么开发票"
    assert buttons[0]["payload"].startswith('/choose_faq{"faq_id": "')
    assert buttons[-1] == {"title": "都不是", "payload": "/none_of_these"}
    [miss] = misses()
    assert (miss.text, miss.decision, miss.sender_id) == ("发票相关", "suggest", "customer-42")


async def test_no_match_apologises_and_is_logged_for_curation(kb):
    _, dispatcher = await run(ActionAnswerFaq(), "量子纠缠")
    assert [m["response"] for m in dispatcher.messages] == ["utter_faq_fallback"]
    assert [m.decision for m in misses()] == ["fallback"]


async def test_choosing_a_suggestion_answers_that_faq(kb):
    target = next(e for e in kb.index().entries if e.question == "客服电话是多少")
    _, dispatcher = await run(ActionAnswerFaq(), f'/choose_faq{{"faq_id": "{target.id}"}}', intent="choose_faq",
                              entities=[{"entity": "faq_id", "value": str(target.id)}])
    [message] = dispatcher.messages
    assert (message["response"], message["answer"]) == ("utter_faq_answer", "客服热线 400-800-1234。")


@pytest.mark.parametrize("value", ["999999", "abc", None])
async def test_choosing_an_unknown_faq_falls_back(kb, value):
    entities = [] if value is None else [{"entity": "faq_id", "value": value}]
    _, dispatcher = await run(ActionAnswerFaq(), "/choose_faq", intent="choose_faq", entities=entities)
    assert [m["response"] for m in dispatcher.messages] == ["utter_faq_fallback"]


async def test_the_handoff_action_says_it_is_coming_soon(kb):
    events, dispatcher = await run(ActionRequestHuman(), "转人工")
    assert events == [] and [m["response"] for m in dispatcher.messages] == ["utter_human_coming_soon"]
