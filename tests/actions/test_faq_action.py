"""action_answer_faq on tracker snapshots (tests/actions/data), with the real knowledge-base service."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import faq as faq_module
from actions.faq import ActionAnswerFaq
from actions.texts import feedback_buttons
from griddesk.db import session_scope
from grids.models import Grid
from knowledge_base.models import FaqUsage, Miss
from tests.actions.trackers import handoff_packets, responses, slot_values, verified
from tests.factories import make_faq

SNAPSHOT = json.loads((Path(__file__).parent / "data" / "ask_faq_tracker.json").read_text(encoding="utf-8"))


def tracker(
    text: str,
    intent: str = "ask_faq",
    entities: list[dict] | None = None,
    misses: int = 0,
    metadata: dict | None = None,
    **slots: object,
) -> Tracker:
    state = copy.deepcopy(SNAPSHOT)
    state["latest_message"].update(text=text, intent={"name": intent, "confidence": 0.9}, entities=entities or [])
    state["events"][-1].update(text=text, parse_data={**state["latest_message"]})
    if metadata is not None:
        state["latest_message"]["metadata"] = state["events"][-1]["metadata"] = metadata
    state["slots"].update(slots, faq_misses=misses)
    return Tracker.from_dict(state)


async def run(action, text: str, **kwargs) -> tuple[list, CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker(text, **kwargs), {})
    return events, dispatcher


def misses() -> list[Miss]:
    with session_scope() as session:
        return list(session.scalars(select(Miss)))


def usage() -> dict[tuple[int, str], int]:
    """{(faq_id, kind): count} over all days."""
    with session_scope() as session:
        counts: dict[tuple[int, str], int] = {}
        for row in session.scalars(select(FaqUsage)):
            key = (row.faq_id, str(row.kind))
            counts[key] = counts.get(key, 0) + row.count
        return counts


def faq_id(kb, question: str) -> int:
    return next(e.id for e in kb.index().entries if e.question == question)


async def test_a_confident_match_is_answered_with_the_faq_answer(kb):
    events, dispatcher = await run(ActionAnswerFaq(), "如何开具发票")
    names = ["grid", "faq_candidates", "faq_category", "faq_question", "faq_answered"]
    assert [e["name"] for e in events] == names
    assert slot_values(events)["grid"] == "central"  # an anonymous customer: the catch-all grid
    [message] = dispatcher.messages
    assert message["response"] == "utter_faq_answer"
    assert message["answer"] == "请在微信公众号「我的账单」中申请电子发票。"
    assert misses() == []


async def test_an_answer_carries_the_feedback_buttons_for_its_faq_and_counts_as_answered(kb):
    invoice = faq_id(kb, "怎么开发票")
    events, dispatcher = await run(ActionAnswerFaq(), "如何开具发票")
    [message] = dispatcher.messages
    assert message["buttons"] == [
        {"title": "有帮助", "payload": f'/faq_feedback{{"faq_id": "{invoice}", "helpful": "yes"}}'},
        {"title": "没帮助", "payload": f'/faq_feedback{{"faq_id": "{invoice}", "helpful": "no"}}'},
    ]
    values = slot_values(events)
    assert (values["faq_answered"], values["faq_question"]) == (str(invoice), "如何开具发票")
    assert usage() == {(invoice, "answered"): 1}


async def test_a_new_question_forgets_the_faqs_rejected_for_the_previous_one(kb):
    events, _ = await run(ActionAnswerFaq(), "发票相关", faq_rejected=[1], faq_answered="1")
    values = slot_values(events)
    assert values["faq_rejected"] is None and values["faq_answered"] is None
    assert values["faq_question"] == "发票相关"


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


async def test_each_suggested_candidate_counts_as_suggested(kb):
    _, dispatcher = await run(ActionAnswerFaq(), "发票相关")
    shown = [
        int(json.loads(b["payload"].removeprefix("/choose_faq"))["faq_id"])
        for b in dispatcher.messages[0]["buttons"][:-1]
    ]
    assert usage() == {(faq, "suggested"): 1 for faq in shown}


async def test_a_failing_usage_counter_never_stops_the_answer(kb, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(faq_module, "record_usage", broken)
    _, dispatcher = await run(ActionAnswerFaq(), "如何开具发票")
    assert responses(dispatcher) == ["utter_faq_answer"]
    assert "recording usage" in caplog.text


@pytest.mark.parametrize("text", ["人工客服！！", "你好", "13800138000"])
async def test_what_is_no_question_is_not_logged_for_curation(kb, text):
    _, dispatcher = await run(ActionAnswerFaq(), text)
    assert dispatcher.messages  # answered as before
    assert misses() == []


async def test_no_match_apologises_and_is_logged_for_curation(kb):
    _, dispatcher = await run(ActionAnswerFaq(), "量子纠缠")
    assert [m["response"] for m in dispatcher.messages] == ["utter_faq_fallback"]
    assert [m.decision for m in misses()] == ["fallback"]


async def test_choosing_a_suggestion_answers_that_faq_with_feedback_buttons_and_counts_it_chosen(kb):
    target = next(e for e in kb.index().entries if e.question == "客服电话是多少")
    events, dispatcher = await run(
        ActionAnswerFaq(),
        f'/choose_faq{{"faq_id": "{target.id}"}}',
        intent="choose_faq",
        entities=[{"entity": "faq_id", "value": str(target.id)}],
    )
    [message] = dispatcher.messages
    assert (message["response"], message["answer"]) == ("utter_faq_answer", "客服热线 400-800-1234。")
    assert message["buttons"] == feedback_buttons(target.id)
    assert slot_values(events)["faq_answered"] == str(target.id)
    assert usage() == {(target.id, "chosen"): 1}


@pytest.mark.parametrize("value", ["999999", "abc", None])
async def test_choosing_an_unknown_faq_falls_back(kb, value):
    entities = [] if value is None else [{"entity": "faq_id", "value": value}]
    _, dispatcher = await run(ActionAnswerFaq(), "/choose_faq", intent="choose_faq", entities=entities)
    assert [m["response"] for m in dispatcher.messages] == ["utter_faq_fallback"]
    assert usage() == {}


# --- consecutive misses and the handoff ----------------------------------------------------------


def set_miss_limit(code: str, limit: int) -> None:
    with session_scope() as session:
        session.get(Grid, code).handoff = {"miss_limit": limit}


async def test_a_fallback_counts_a_miss_and_keeps_the_candidates_for_a_handoff(kb, open_hours):
    events, dispatcher = await run(ActionAnswerFaq(), "量子纠缠")
    assert responses(dispatcher) == ["utter_faq_fallback"]
    values = slot_values(events)
    assert values["faq_misses"] == 1 and values["faq_category"] is None
    assert all(set(c) == {"faq_id", "question", "score", "category"} for c in values["faq_candidates"])


async def test_the_second_miss_in_a_row_says_so_then_hands_over_with_the_candidates(kb, open_hours):
    events, dispatcher = await run(ActionAnswerFaq(), "量子纠缠", misses=1)
    assert responses(dispatcher)[:2] == ["utter_faq_still_no_answer", "utter_human_transferring"]
    [packet] = handoff_packets(dispatcher)
    assert (packet["reason"], packet["grid"], packet["summary"]) == ("repeated_misses", "central", "量子纠缠")
    assert packet.get("faq_candidates", []) == [
        {k: c[k] for k in ("faq_id", "question", "score")} for c in slot_values(events)["faq_candidates"]
    ]
    assert slot_values(events)["faq_misses"] == 0


async def test_none_of_these_counts_as_a_miss(kb, open_hours):
    events, dispatcher = await run(ActionAnswerFaq(), "都不是", intent="none_of_these")
    assert responses(dispatcher) == ["utter_none_of_these"] and slot_values(events) == {"faq_misses": 1}


async def test_none_of_these_after_a_miss_hands_over_with_the_suggestions_it_rejected(kb, open_hours):
    suggested = [{"faq_id": 3, "question": "怎么开发票", "score": 0.55, "category": "发票"}]
    events, dispatcher = await run(
        ActionAnswerFaq(), "都不是", intent="none_of_these", misses=1, faq_candidates=suggested, faq_category="发票"
    )
    [packet] = handoff_packets(dispatcher)
    assert packet["faq_candidates"] == [{"faq_id": 3, "question": "怎么开发票", "score": 0.55}]
    assert (packet["reason"], packet["grid"], packet["skill"]) == ("repeated_misses", "billing", "billing")
    assert slot_values(events) == {"faq_misses": 0}


async def test_a_suggestion_neither_counts_nor_resets(kb, open_hours):
    events, _ = await run(ActionAnswerFaq(), "发票相关", misses=1)
    values = slot_values(events)
    assert "faq_misses" not in values and values["faq_category"] == "发票"
    assert values["faq_candidates"][0]["question"] == "怎么开发票"


async def test_an_answer_resets_the_count(kb, open_hours):
    events, _ = await run(ActionAnswerFaq(), "如何开具发票", misses=1)
    assert slot_values(events)["faq_misses"] == 0


async def test_a_chosen_suggestion_resets_the_count(kb, open_hours):
    target = next(e for e in kb.index().entries if e.question == "客服电话是多少")
    events, _ = await run(
        ActionAnswerFaq(),
        "/choose_faq",
        intent="choose_faq",
        misses=1,
        entities=[{"entity": "faq_id", "value": str(target.id)}],
    )
    assert slot_values(events) == {"faq_answered": str(target.id), "faq_misses": 0}


async def test_the_miss_limit_is_the_routed_grids(kb, open_hours):
    set_miss_limit("cd-wuhou", 3)
    wuhou = verified(region="成都武侯区")
    events, dispatcher = await run(ActionAnswerFaq(), "量子纠缠", misses=1, metadata=wuhou)
    assert responses(dispatcher) == ["utter_faq_fallback"] and slot_values(events)["faq_misses"] == 2
    events, dispatcher = await run(ActionAnswerFaq(), "量子纠缠", misses=2, metadata=wuhou)
    assert [p["grid"] for p in handoff_packets(dispatcher)] == ["cd-wuhou"]
    # another grid keeps the default of 2
    _, dispatcher = await run(ActionAnswerFaq(), "量子纠缠", misses=1, metadata=verified(region="成都锦江区"))
    assert [p["grid"] for p in handoff_packets(dispatcher)] == ["cd-jinjiang"]


async def test_repeated_misses_outside_business_hours_offer_a_ticket_and_start_counting_again(kb, night):
    events, dispatcher = await run(ActionAnswerFaq(), "量子纠缠", misses=1)
    assert responses(dispatcher) == ["utter_faq_still_no_answer", "utter_human_closed"]
    assert handoff_packets(dispatcher) == [] and slot_values(events)["faq_misses"] == 0


def publish_override(kb, grid: str, question: str, answer: str) -> None:
    """``grid``'s published override of the global FAQ ``question`` (its similar questions too)."""
    original = next(entry for entry in kb.index().entries if entry.question == question)
    with session_scope() as session:
        similar = list(original.similar_questions)
        make_faq(session, question, similar, answer, original.category, grid=grid, overrides_id=original.id)
    kb.refresh()


async def test_a_grids_published_override_answers_that_grids_customers_and_only_them(kb):
    publish_override(kb, "cd-wuhou", "你们的服务时间是几点到几点", "武侯网格: 每天 9:00-21:00。")
    events, dispatcher = await run(ActionAnswerFaq(), "客服几点上班", metadata=verified(region="成都市武侯区"))
    assert dispatcher.messages[0]["answer"] == "武侯网格: 每天 9:00-21:00。"
    assert slot_values(events)["grid"] == "cd-wuhou"
    for other in (verified(region="成都市锦江区"), None):  # another grid's customer, an anonymous one
        _, dispatcher = await run(ActionAnswerFaq(), "客服几点上班", metadata=other)
        assert dispatcher.messages[0]["answer"] == "人工在线客服每天 8:00-22:00 为您服务。"


async def test_the_customers_grid_does_not_follow_what_they_asked_about(kb):
    events, _ = await run(
        ActionAnswerFaq(), "客服几点上班", metadata=verified(region="成都市武侯区"), faq_category="账单与缴费"
    )
    assert slot_values(events)["grid"] == "cd-wuhou"  # not the billing grid a billing question routes to
