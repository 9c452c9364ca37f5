"""action_faq_feedback: 有帮助 / 没帮助 under an FAQ answer, on tracker snapshots with the real
knowledge-base service and database (docs/kb-curation.md "Feedback in chat")."""

from __future__ import annotations

import json

import pytest
from rasa_sdk import Tracker
from sqlalchemy import select

from actions import faq as faq_module
from actions.feedback import ActionFaqFeedback, next_candidates
from griddesk.db import session_scope
from knowledge_base.models import FaqUsage, Miss
from knowledge_base.search import KnowledgeBase
from tests.actions.trackers import (
    handoff_packets,
    responses,
    run,
    slot_values,
    snapshot,
)
from tests.factories import make_faq


def faq_id(kb: KnowledgeBase, question: str) -> int:
    return next(e.id for e in kb.index().entries if e.question == question)


def feedback(faq: int | str | None, helpful: str | None, **slots: object) -> Tracker:
    """The customer pressed a feedback button (``faq``/``helpful`` None: that entity is missing)."""
    entities = [
        {"entity": name, "value": str(value)}
        for name, value in (("faq_id", faq), ("helpful", helpful))
        if value is not None
    ]
    payload = {e["entity"]: e["value"] for e in entities}
    return snapshot(
        "ask_faq_tracker", text="/faq_feedback" + json.dumps(payload), intent="faq_feedback", entities=entities, **slots
    )


def usage() -> dict[tuple[int, str], int]:
    with session_scope() as session:
        return {(row.faq_id, str(row.kind)): row.count for row in session.scalars(select(FaqUsage))}


def inbox() -> list[tuple[str, str, int | None, str | None]]:
    with session_scope() as session:
        return [(m.kind, m.text, m.top_faq_id, m.sender_id) for m in session.scalars(select(Miss))]


def offered(message: dict) -> list[int]:
    return [int(json.loads(b["payload"].removeprefix("/choose_faq"))["faq_id"]) for b in message["buttons"][:-1]]


async def test_helpful_thanks_the_customer_and_counts_it(kb):
    invoice = faq_id(kb, "怎么开发票")
    events, dispatcher = await run(
        ActionFaqFeedback(), feedback(invoice, "yes", faq_answered=str(invoice), faq_question="如何开具发票")
    )
    assert responses(dispatcher) == ["utter_faq_feedback_thanks"]
    assert usage() == {(invoice, "helpful"): 1}
    assert slot_values(events) == {"faq_answered": None}
    assert inbox() == []


async def test_a_second_click_on_the_same_answer_counts_nothing_more(kb):
    invoice = faq_id(kb, "怎么开发票")
    _, dispatcher = await run(ActionFaqFeedback(), feedback(invoice, "yes", faq_answered=None))
    assert responses(dispatcher) == ["utter_faq_feedback_invalid"]
    assert usage() == {}


async def test_unhelpful_is_counted_goes_to_the_inbox_and_offers_the_other_candidates(kb, open_hours):
    invoice = faq_id(kb, "怎么开发票")
    events, dispatcher = await run(
        ActionFaqFeedback(), feedback(invoice, "no", faq_answered=str(invoice), faq_question="电话和发票")
    )
    [message] = dispatcher.messages
    assert message["response"] == "utter_faq_suggest_more"
    assert message["buttons"][-1] == {"title": "都不是", "payload": "/none_of_these"}
    shown = offered(message)
    assert shown == [faq_id(kb, "客服电话是多少")]
    assert handoff_packets(dispatcher) == []
    assert inbox() == [("unhelpful", "电话和发票", invoice, "customer-42")]
    assert usage() == {(invoice, "unhelpful"): 1, **{(faq, "suggested"): 1 for faq in shown}}
    values = slot_values(events)
    assert values["faq_rejected"] == [invoice] and values["faq_answered"] is None
    assert [c["faq_id"] for c in values["faq_candidates"]] == shown
    assert values["faq_misses"] == 1  # 都不是 on these next candidates reaches the default limit of 2


def test_the_next_candidates_leave_out_every_faq_rejected_for_the_question_and_weak_ones(kb):
    with session_scope() as session:
        extra = make_faq(session, "发票和电话", answer="发票问题请拨打 400-800-1234 转 2。").id
    invoice, phone = faq_id(kb, "怎么开发票"), faq_id(kb, "客服电话是多少")
    assert {invoice, phone, extra} <= {hit.faq.id for hit in kb.search("电话和发票", 5, None).hits}
    assert [hit.faq.id for hit in next_candidates("电话和发票", None, [invoice, extra])] == [phone]
    # 宽带断网了怎么办 scores below the suggest threshold: never offered
    assert next_candidates("电话和发票", None, [invoice, extra, phone]) == []


async def test_a_second_unhelpful_answer_hands_over_to_a_human(kb, open_hours):
    invoice, phone = faq_id(kb, "怎么开发票"), faq_id(kb, "客服电话是多少")
    events, dispatcher = await run(
        ActionFaqFeedback(),
        feedback(
            phone, "no", faq_answered=str(phone), faq_question="发票相关", faq_rejected=[invoice], faq_category="发票"
        ),
    )
    assert responses(dispatcher)[:2] == ["utter_faq_still_no_answer", "utter_human_transferring"]
    [packet] = handoff_packets(dispatcher)
    assert packet["reason"] == "repeated_misses"
    assert usage() == {(phone, "unhelpful"): 1}
    assert [(kind, text) for kind, text, _, _ in inbox()] == [("unhelpful", "发票相关")]
    assert slot_values(events)["faq_rejected"] is None


async def test_unhelpful_with_no_other_candidate_hands_over_at_once(kb, open_hours):
    phone = faq_id(kb, "客服电话是多少")
    _, dispatcher = await run(
        ActionFaqFeedback(), feedback(phone, "no", faq_answered=str(phone), faq_question="量子纠缠")
    )
    assert responses(dispatcher)[:2] == ["utter_faq_unhelpful_no_more", "utter_human_transferring"]
    assert [p["reason"] for p in handoff_packets(dispatcher)] == ["repeated_misses"]


async def test_unhelpful_outside_business_hours_offers_a_ticket_instead(kb, night):
    phone = faq_id(kb, "客服电话是多少")
    _, dispatcher = await run(
        ActionFaqFeedback(), feedback(phone, "no", faq_answered=str(phone), faq_question="量子纠缠")
    )
    assert responses(dispatcher) == ["utter_faq_unhelpful_no_more", "utter_human_closed"]
    assert handoff_packets(dispatcher) == []


async def test_a_rating_without_an_id_rates_the_last_answer(kb):
    invoice = faq_id(kb, "怎么开发票")
    _, dispatcher = await run(ActionFaqFeedback(), feedback(None, "yes", faq_answered=str(invoice)))
    assert responses(dispatcher) == ["utter_faq_feedback_thanks"]
    assert usage() == {(invoice, "helpful"): 1}


@pytest.mark.parametrize(
    "faq, helpful",
    [
        ("999999", "yes"),  # forged: not the FAQ just answered
        ("abc", "no"),
        ("{invoice}", "maybe"),
        ("{invoice}", None),
        ("{phone}", "no"),  # an older answer's button
    ],
)
async def test_a_forged_or_stale_rating_is_refused_politely_and_counts_nothing(kb, faq, helpful):
    ids = {"invoice": faq_id(kb, "怎么开发票"), "phone": faq_id(kb, "客服电话是多少")}
    events, dispatcher = await run(
        ActionFaqFeedback(),
        feedback(faq.format(**ids), helpful, faq_answered=str(ids["invoice"]), faq_question="如何开具发票"),
    )
    assert responses(dispatcher) == ["utter_faq_feedback_invalid"]
    assert events == [] and usage() == {} and inbox() == []


async def test_a_failing_inbox_or_counter_still_offers_the_next_candidates(kb, monkeypatch, caplog, open_hours):
    def broken(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(faq_module, "record_usage", broken)
    monkeypatch.setattr("actions.feedback.log_unhelpful", broken)
    invoice = faq_id(kb, "怎么开发票")
    _, dispatcher = await run(
        ActionFaqFeedback(), feedback(invoice, "no", faq_answered=str(invoice), faq_question="电话和发票")
    )
    assert responses(dispatcher) == ["utter_faq_suggest_more"]
    assert "unhelpful answer" in caplog.text
