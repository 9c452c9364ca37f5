"""The ticket form's actions on tracker snapshots: validation, summary, changes, cancellation."""

from __future__ import annotations

import pytest

from actions.ticket_form import (
    ActionChangeTicketField,
    ActionDiscardTicketDraft,
    ActionTicketSummary,
    ValidateTicketForm,
)
from griddesk.db import session_scope
from tests.actions.trackers import (
    handoff_packets,
    responses,
    run,
    slot_values,
    snapshot,
    verified,
)
from tickets import service
from tickets.models import Category

FILLED = {
    "ticket_category": "fault",
    "ticket_description": "宽带一直断网，重启也没用",
    "ticket_phone": "13812345678",
    "ticket_name": "张三",
    "ticket_region": "成都市武侯区",
}
EMPTY = dict.fromkeys(FILLED)


async def validate(name: str, text: str | None = None, intent: str | None = None, **slots):
    return await run(ValidateTicketForm(), snapshot(name, text, intent, **slots))


# --- the first message --------------------------------------------------------------------------


async def test_a_complaint_with_its_problem_prefills_category_and_description():
    events, dispatcher = await validate("ticket_form_activation")
    assert slot_values(events) == {"ticket_category": "complaint", "ticket_description": "宽带三天没修好"}
    assert dispatcher.messages == []  # Rasa asks for the next slot, the phone


async def test_a_bare_ticket_request_asks_for_the_category_first():
    events, _ = await validate("ticket_form_activation", "帮我开个工单", "create_ticket")
    assert slot_values(events) == {"requested_slot": "ticket_category"}


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        (
            "宽带坏了，电话13812345678",
            "create_ticket",
            {"ticket_category": "fault", "ticket_description": "宽带坏了", "ticket_phone": "13812345678"},
        ),
        ("发票開錯了", "create_ticket", {"ticket_category": "billing", "ticket_description": "发票開錯了"}),
        (
            "我要投訴，寬帶三天沒修好",
            "complain",
            {"ticket_category": "complaint", "ticket_description": "寬帶三天沒修好"},
        ),
        ("你们服务太差了", "complain", {"ticket_category": "complaint", "ticket_description": "你们服务太差了"}),
        ("我叫张三，我要报修", "create_ticket", {"ticket_category": "fault", "ticket_name": "张三"}),
    ],
)
async def test_what_the_first_message_says_is_not_asked_again(text, intent, expected):
    events, _ = await validate("ticket_form_activation", text, intent)
    values = slot_values(events)
    values.pop("requested_slot", None)
    assert values == expected


async def test_a_refund_asks_for_the_amount_and_an_amount_in_the_first_message_is_kept():
    events, _ = await validate("ticket_form_activation", "重复扣费了，多扣了我200元，帮我退款", "create_ticket")
    assert slot_values(events) == {
        "ticket_category": "refund",
        "ticket_description": "重复扣费了，多扣了我200元",
        "ticket_amount": "200.00",
        "requested_slot": "ticket_phone",
    }
    events, _ = await validate("ticket_form_activation", "我要申请退款", "create_ticket")
    assert slot_values(events) == {"ticket_category": "refund", "requested_slot": "ticket_description"}


async def test_an_amount_is_not_kept_for_other_categories():
    events, _ = await validate("ticket_form_activation", "我要投诉你们乱收费，多扣了我200元", "complain")
    assert "ticket_amount" not in slot_values(events)


async def test_starting_anew_forgets_what_an_unfinished_form_left_behind():
    events, _ = await validate(
        "ticket_form_activation", ticket_phone="13900000000", ticket_name="旧名字", ticket_failures={"ticket_region": 2}
    )
    values = slot_values(events)
    assert values["ticket_phone"] is None and values["ticket_name"] is None and values["ticket_failures"] is None
    assert values["ticket_category"] == "complaint"


# --- answers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "requested, text, slot, value",
    [
        ("ticket_phone", "138-1234-5678", "ticket_phone", "13812345678"),
        ("ticket_phone", "我的座机是028 85551234", "ticket_phone", "02885551234"),
        ("ticket_name", "叫我小王就行", "ticket_name", "小王"),
        ("ticket_region", "我家住在成都市錦江區", "ticket_region", "成都市锦江区"),
        ("ticket_category", "账务/发票", "ticket_category", "billing"),
        ("ticket_category", "投訴", "ticket_category", "complaint"),
        ("ticket_description", "光猫一直亮红灯，重启也没用", "ticket_description", "光猫一直亮红灯,重启也没用"),
    ],
)
async def test_answers_are_normalised(requested, text, slot, value):
    events, dispatcher = await validate("ticket_form_answer", text, "inform", requested_slot=requested)
    assert slot_values(events)[slot] == value
    assert dispatcher.messages == []


async def test_a_refund_amount_answer_may_be_spoken():
    events, _ = await validate(
        "ticket_form_answer", "大概五千吧", "inform", requested_slot="ticket_amount", ticket_category="refund"
    )
    assert slot_values(events)["ticket_amount"] == "5000.00"


async def test_a_phone_and_a_name_volunteered_in_another_answer_are_both_kept():
    events, _ = await validate(
        "ticket_form_answer", "我叫张三，电话13812345678", "inform", requested_slot="ticket_name"
    )
    values = slot_values(events)
    assert (values["ticket_name"], values["ticket_phone"]) == ("张三", "13812345678")


@pytest.mark.parametrize(
    "requested, text, reason",
    [
        ("ticket_phone", "12345", "invalid_phone"),
        ("ticket_phone", "不知道", "invalid_phone"),
        ("ticket_description", "宽带", "description_too_short"),
        ("ticket_description", "断" * 1001, "description_too_long"),
        ("ticket_name", "张3", "invalid_name"),
        ("ticket_region", "abc", "invalid_region"),
        ("ticket_amount", "不知道", "invalid_amount"),
        ("ticket_amount", "0元", "invalid_amount"),
        ("ticket_amount", "一分都不能少", "invalid_amount"),
        ("ticket_category", "随便", "unknown_category"),
    ],
)
async def test_each_invalid_answer_gets_its_own_reprompt(requested, text, reason):
    events, dispatcher = await validate(
        "ticket_form_answer",
        text,
        "inform",
        requested_slot=requested,
        ticket_category="refund" if requested == "ticket_amount" else "complaint",
    )
    values = slot_values(events)
    assert values[requested] is None
    assert values["ticket_failures"] == {requested: 1}
    assert responses(dispatcher) == [f"utter_invalid_{reason}"]


async def test_the_third_failure_for_one_slot_apologises_and_stops_the_form():
    events, dispatcher = await validate(
        "ticket_form_answer", "abc", "nlu_fallback", ticket_failures={"ticket_phone": 2}
    )
    assert responses(dispatcher) == ["utter_form_too_many_failures"]
    values = slot_values(events)
    assert values["ticket_failures"] == {"ticket_phone": 3}
    assert values["requested_slot"] is None  # the form ends; action_ticket_summary then hands over


async def test_failures_of_different_slots_do_not_add_up():
    events, dispatcher = await validate(
        "ticket_form_answer", "abc", "inform", ticket_failures={"ticket_description": 2}
    )
    assert responses(dispatcher) == ["utter_invalid_invalid_phone"]
    assert slot_values(events)["ticket_failures"] == {"ticket_description": 2, "ticket_phone": 1}
    assert slot_values(events).get("requested_slot", "not set") is not None


@pytest.mark.parametrize(
    "text, intent",
    [
        ("算了", "cancel"),
        ("不用了", "cancel"),
        ("取消", "cancel"),
        ("電話寫錯了", "change_ticket_field"),
        ("转人工", "request_human"),
    ],
)
async def test_cancel_change_and_human_requests_are_left_to_the_rules(text, intent):
    events, dispatcher = await validate("ticket_form_answer", text, intent)
    assert {k: v for k, v in slot_values(events).items() if k != "requested_slot"} == {}  # Rasa rejects the form
    assert dispatcher.messages == []


async def test_a_long_description_that_sounds_like_cancel_is_a_description():
    text = "取消了宽带套餐但是这个月还在扣费，帮我查一下"
    events, _ = await validate("ticket_form_answer", text, "cancel", requested_slot="ticket_description")
    assert slot_values(events)["ticket_description"] == "取消了宽带套餐但是这个月还在扣费,帮我查一下"


async def test_after_a_change_the_same_message_is_not_read_as_an_answer():
    # 不對，改一下電話 while the name was asked: action_change_ticket_field cleared the phone, the form resumes
    events, dispatcher = await validate("ticket_form_after_change")
    assert "ticket_name" not in slot_values(events) and dispatcher.messages == []


# --- summary, change, discard ------------------------------------------------------------------


async def test_the_summary_shows_every_field_and_waits_for_confirmation():
    events, dispatcher = await run(ActionTicketSummary(), snapshot("ticket_confirming", **FILLED))
    [message] = dispatcher.messages
    assert message["response"] == "utter_ticket_summary"
    assert (message["category"], message["phone"], message["region"]) == ("故障报修", "13812345678", "成都市武侯区")
    assert events == [{"event": "slot", "timestamp": None, "name": "ticket_confirming", "value": True}]


async def test_a_refund_summary_shows_the_amount():
    _, dispatcher = await run(
        ActionTicketSummary(),
        snapshot("ticket_confirming", **{**FILLED, "ticket_category": "refund", "ticket_amount": "200.00"}),
    )
    [message] = dispatcher.messages
    assert (message["response"], message["amount"]) == ("utter_ticket_summary_with_amount", "200")


async def test_a_form_given_up_is_handed_to_a_human_with_the_draft(settings, open_hours):
    tracker = snapshot(
        "ticket_confirming",
        "张3",
        "inform",
        **{**FILLED, "ticket_phone": None, "ticket_name": None, "ticket_region": None},
        ticket_failures={"ticket_phone": 3},
    )
    events, dispatcher = await run(ActionTicketSummary(), tracker)
    assert responses(dispatcher)[0] == "utter_human_transferring"
    [packet] = handoff_packets(dispatcher)
    assert (packet["reason"], packet["grid"], packet["skill"]) == ("form_failures", "central", "fault")
    assert packet["draft_ticket"] == {"category": "fault", "description": "宽带一直断网，重启也没用"}
    assert slot_values(events)["ticket_failures"] is None


async def test_a_form_given_up_at_night_offers_a_ticket_instead(settings, night):
    tracker = snapshot("ticket_confirming", **{**FILLED, "ticket_phone": None}, ticket_failures={"ticket_phone": 3})
    _, dispatcher = await run(ActionTicketSummary(), tracker)
    assert responses(dispatcher) == ["utter_human_closed"] and handoff_packets(dispatcher) == []


async def test_no_summary_when_the_form_stopped_early():
    tracker = snapshot("ticket_confirming", **{**FILLED, "ticket_phone": None})
    events, dispatcher = await run(ActionTicketSummary(), tracker)
    assert events == [] and dispatcher.messages == []


@pytest.mark.parametrize(
    "text, entities, changed, value",
    [
        ("电话写错了", [{"entity": "ticket_field", "value": "电话"}], "ticket_phone", None),
        ("/change_ticket_field", [{"entity": "ticket_field", "value": "region"}], "ticket_region", None),
        ("地址寫錯了", [], "ticket_region", None),
        ("电话写错了，是13912345678", [{"entity": "ticket_field", "value": "电话"}], "ticket_phone", "13912345678"),
    ],
)
async def test_changing_a_field_at_the_confirmation_clears_it_or_takes_the_new_value(text, entities, changed, value):
    tracker = snapshot("ticket_confirming", text, "change_ticket_field", entities, **FILLED, ticket_confirming=True)
    events, _ = await run(ActionChangeTicketField(), tracker)
    assert slot_values(events) == {"ticket_confirming": False, changed: value}


async def test_a_change_without_a_field_in_the_form_means_the_last_answer():
    tracker = snapshot("ticket_form_answer", "刚才写错了", "change_ticket_field", [])
    events, _ = await run(ActionChangeTicketField(), tracker)
    assert slot_values(events) == {"ticket_description": None}  # the last slot the snapshot filled


async def test_discarding_the_draft_clears_every_ticket_slot():
    events, dispatcher = await run(
        ActionDiscardTicketDraft(), snapshot("ticket_confirming", "算了", "cancel", **FILLED, ticket_confirming=True)
    )
    assert responses(dispatcher) == ["utter_ticket_discarded"]
    values = slot_values(events)
    assert values.pop("ticket_confirming") is False
    assert set(values) >= set(FILLED) and all(v is None for v in values.values())


@pytest.mark.parametrize("text, value", [("网又断了", "网又断了"), ("断网了", None)])
async def test_a_short_answer_taken_for_cancel_without_a_cancel_word_is_an_answer(text, value):
    events, _ = await validate("ticket_form_answer", text, "cancel", requested_slot="ticket_description")
    assert slot_values(events)["ticket_description"] == value  # read (断网了 is too short): not a cancel


async def test_a_complaint_button_payload_still_sets_the_category():
    events, _ = await validate("ticket_form_activation", "/complain", "complain")
    assert slot_values(events) == {"ticket_category": "complaint"}


# --- what the form knows already ----------------------------------------------------------------


async def test_a_verified_customers_phone_name_and_region_are_not_asked(settings):
    metadata = verified(phone="13812345678", name="王芳", region="成都市武侯区")
    tracker = snapshot("ticket_form_activation", "宽带断了，帮我报修", "create_ticket", metadata=metadata)
    events, _ = await run(ValidateTicketForm(), tracker)
    values = slot_values(events)
    assert (values["ticket_phone"], values["ticket_name"], values["ticket_region"]) == (
        "13812345678",
        "王芳",
        "成都市武侯区",
    )


async def test_a_second_ticket_in_the_same_conversation_takes_the_contact_of_the_first(settings):
    with session_scope() as session:
        service.open_ticket(
            session,
            service.NewTicket(
                category=Category.FAULT,
                description="宽带一直断网",
                contact_phone="13912345678",
                contact_name="李四",
                region="成都市锦江区",
                sender_id="customer-9",
            ),
        )
    tracker = snapshot("ticket_form_activation", "发票开错了，帮我登记", "create_ticket", sender_id="customer-9")
    values = slot_values((await run(ValidateTicketForm(), tracker))[0])
    assert (values["ticket_phone"], values["ticket_name"], values["ticket_region"]) == (
        "13912345678",
        "李四",
        "成都市锦江区",
    )
    # another conversation (anonymous) knows nothing of it
    other = slot_values((await run(ValidateTicketForm(), snapshot("ticket_form_activation", sender_id="x-1")))[0])
    assert not {"ticket_phone", "ticket_name", "ticket_region"} & set(other)


async def test_what_the_customer_says_in_the_first_message_wins_and_a_value_the_form_refuses_is_not_used(settings):
    metadata = verified(phone="13812345678", region="HQ-12")
    text = "宽带断了，帮我报修，电话13700001111"
    values = slot_values(
        (await run(ValidateTicketForm(), snapshot("ticket_form_activation", text, "create_ticket", metadata=metadata)))[
            0
        ]
    )
    assert values["ticket_phone"] == "13700001111"
    assert "ticket_region" not in values  # HQ-12 is no region the form accepts: it is asked
