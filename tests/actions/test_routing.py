"""Issue 14's routing decisions in the actions: a described fault gets the answer with a 报修 button,
an explicit request or that button opens the form, 没帮助 on a fault offers the form, and declining
or changing a field outside a form is read as a question unless it only declines."""

from __future__ import annotations

import json

import pytest

from actions.faq import ActionAnswerFaq, only_declines, sounds_like_fault
from actions.feedback import ActionFaqFeedback
from actions.texts import REPORT_FAULT_PAYLOAD, feedback_buttons, report_fault_button
from actions.ticket_form import ValidateTicketForm
from tests.actions.test_faq_action import faq_id, misses, run
from tests.actions.trackers import domain, handoff_packets, responses, slot_values, snapshot
from tests.actions.trackers import run as run_on

REPORT = report_fault_button()


# --- a described fault gets the answer, with 「还是不行，帮我报修」 ------------------------------------


async def test_a_fault_described_gets_the_answer_with_the_report_button(kb):
    outage = faq_id(kb, "宽带断网了怎么办")
    events, dispatcher = await run(ActionAnswerFaq(), "网断了")
    [message] = dispatcher.messages
    assert (message["response"], message["answer"]) == ("utter_faq_answer", "请先重启光猫和路由器,仍无法上网请报修。")
    assert message["buttons"] == [*feedback_buttons(outage), REPORT]
    assert REPORT == {"title": "还是不行，帮我报修", "payload": '/create_ticket{"ticket_category": "fault"}'}
    assert slot_values(events)["faq_question"] == "网断了"


async def test_an_answer_to_a_question_that_is_no_fault_has_no_report_button(kb):
    _, dispatcher = await run(ActionAnswerFaq(), "如何开具发票")
    [message] = dispatcher.messages
    assert REPORT not in message["buttons"]


async def test_suggestions_for_a_fault_offer_the_report_button_before_none_of_these(kb):
    _, dispatcher = await run(ActionAnswerFaq(), "网速很慢电话打不通")
    [message] = dispatcher.messages
    assert message["response"] == "utter_faq_suggest"
    assert message["buttons"][-2:] == [REPORT, {"title": "都不是", "payload": "/none_of_these"}]


async def test_a_fault_the_knowledge_base_cannot_place_still_offers_the_report_button(kb):
    _, dispatcher = await run(ActionAnswerFaq(), "掉线了")
    [message] = dispatcher.messages
    assert message["response"] == "utter_faq_fallback"
    assert message["buttons"] == [REPORT]  # added to the response's own 转人工 button


async def test_the_question_is_remembered_as_the_customer_typed_it(kb):
    events, _ = await run(ActionAnswerFaq(), "网断了!", metadata={"typed": "網斷了！！！"})
    assert slot_values(events)["faq_question"] == "網斷了！！！"


@pytest.mark.parametrize(
    "text, category, fault",
    [
        ("宽带从昨天开始特别慢", None, True),
        ("光猫亮红灯", None, True),
        ("一到晚上就掉线", None, True),
        ("看视频很卡", None, True),
        ("怎么绑定银行卡", None, False),  # 卡 alone is not a fault word
        ("WiFi信号不好", "故障报修", True),  # the FAQ found is a fault one
        ("怎么开发票", "发票", False),
    ],
)
def test_what_sounds_like_a_fault(text, category, fault):
    assert sounds_like_fault(text, category) is fault


# --- the form: an explicit request, or the 报修 button -------------------------------------------


async def test_an_explicit_request_opens_the_form_with_its_category_and_description():
    events, _ = await run_on(
        ValidateTicketForm(), snapshot("ticket_form_activation", "宽带断了,帮我报修", "create_ticket")
    )
    values = slot_values(events)
    assert (values["ticket_category"], values["ticket_description"]) == ("fault", "宽带断了")


async def test_the_report_button_opens_the_form_with_the_question_as_the_description():
    button = snapshot(
        "ticket_form_activation",
        REPORT_FAULT_PAYLOAD,
        "create_ticket",
        entities=[{"entity": "ticket_category", "value": "fault"}],
        faq_question="家里突然没网了，手机电脑都连不上",
    )
    events, dispatcher = await run_on(ValidateTicketForm(), button)
    assert slot_values(events) == {
        "ticket_category": "fault",
        "ticket_description": "家里突然没网了，手机电脑都连不上",
    }
    assert dispatcher.messages == []


async def test_a_bare_create_ticket_payload_does_not_take_an_old_question():
    leave_message = snapshot(
        "ticket_form_activation", "/create_ticket", "create_ticket", entities=[], faq_question="怎么开发票"
    )
    events, _ = await run_on(ValidateTicketForm(), leave_message)
    assert "ticket_description" not in slot_values(events)


# --- 没帮助 on a fault offers the form ------------------------------------------------------------


def unhelpful(faq: int, question: str, **slots: object):
    payload = {"faq_id": str(faq), "helpful": "no"}
    return snapshot(
        "ask_faq_tracker",
        text="/faq_feedback" + json.dumps(payload),
        intent="faq_feedback",
        entities=[{"entity": name, "value": value} for name, value in payload.items()],
        faq_answered=str(faq),
        faq_question=question,
        **slots,
    )


async def test_unhelpful_on_a_fault_offers_the_next_candidates_and_the_form(kb, open_hours):
    outage = faq_id(kb, "宽带断网了怎么办")
    _, dispatcher = await run_on(ActionFaqFeedback(), unhelpful(outage, "网断了电话也打不通", faq_category="故障报修"))
    [message] = dispatcher.messages
    assert message["response"] == "utter_faq_suggest_more"
    assert message["buttons"][-2:] == [REPORT, {"title": "都不是", "payload": "/none_of_these"}]


async def test_a_fault_with_nothing_more_to_offer_lets_the_customer_choose_the_form_or_a_person(kb, open_hours):
    outage = faq_id(kb, "宽带断网了怎么办")
    events, dispatcher = await run_on(
        ActionFaqFeedback(), unhelpful(outage, "网断了", faq_category="故障报修", faq_rejected=[999])
    )
    assert responses(dispatcher) == ["utter_faq_unhelpful_fault"]
    assert handoff_packets(dispatcher) == []
    assert slot_values(events)["faq_rejected"] is None


async def test_unhelpful_on_anything_else_still_offers_no_form(kb, open_hours):
    invoice = faq_id(kb, "怎么开发票")
    _, dispatcher = await run_on(ActionFaqFeedback(), unhelpful(invoice, "电话和发票", faq_category="发票"))
    [message] = dispatcher.messages
    assert REPORT not in message["buttons"]


async def test_none_of_these_after_suggestions_for_a_fault_offers_the_form(kb, open_hours):
    _, dispatcher = await run(
        ActionAnswerFaq(), "都不是", intent="none_of_these", faq_question="网速很慢", faq_category="故障报修"
    )
    [message] = dispatcher.messages
    assert (message["response"], message["buttons"]) == ("utter_none_of_these", [REPORT])


# --- declining and field changes outside a form --------------------------------------------------


@pytest.mark.parametrize(
    "text", ["算了", "不用了,谢谢", "不是", "不对不对", "算了,我自己再看看", "不用麻烦了", "取消", "不想填了", "不要了"]
)
def test_messages_that_only_decline(text):
    assert only_declines(text)


@pytest.mark.parametrize(
    "text", ["不想再自动扣费了", "不想再用你们家宽带了", "取消工单", "上门的预约我不想要了", "不交钱是不是就给我停了"]
)
def test_declining_with_something_asked(text):
    assert not only_declines(text)


@pytest.mark.parametrize("intent", ["cancel", "deny"])
async def test_only_declining_outside_a_form_is_asked_what_else_without_a_search(kb, intent):
    events, dispatcher = await run(ActionAnswerFaq(), "算了", intent=intent)
    assert (responses(dispatcher), events) == (["utter_ask_how_can_help"], [])
    assert misses() == []


async def test_a_question_read_as_cancel_is_answered(kb):
    _, dispatcher = await run(ActionAnswerFaq(), "不想再搞了,网络连不上", intent="cancel")
    assert responses(dispatcher) == ["utter_faq_answer"]


async def test_declining_the_search_finds_nothing_for_is_no_miss(kb):
    events, dispatcher = await run(ActionAnswerFaq(), "不想再收到广告", intent="cancel")
    assert responses(dispatcher) == ["utter_ask_how_can_help"]
    assert "faq_misses" not in slot_values(events)


async def test_a_field_change_outside_a_form_is_a_question(kb):
    _, dispatcher = await run(ActionAnswerFaq(), "密码怎么改", intent="change_ticket_field")
    assert responses(dispatcher) == ["utter_faq_answer"]


# --- leaving a form ------------------------------------------------------------------------------


def test_every_reprompt_says_how_to_leave_the_form():
    """A question typed into the form gets a re-prompt (抱歉，没能识别问题类型…): each says that
    取消 leaves, so nobody is stuck in a form they did not mean to fill in."""
    reprompts = {
        name: variants for name, variants in domain()["responses"].items() if name.startswith("utter_invalid_")
    }
    assert len(reprompts) >= 10
    for name, variants in reprompts.items():
        assert all("“取消”" in variant["text"] for variant in variants), name
