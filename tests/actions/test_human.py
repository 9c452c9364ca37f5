"""action_request_human and escalate: the transfer with its packet, or a ticket outside business hours."""

from __future__ import annotations

from sqlalchemy import delete

from actions.human import ActionRequestHuman
from griddesk.db import session_scope
from grids.models import Grid
from tests.actions.conftest import SATURDAY_MORNING
from tests.actions.trackers import (
    conversation,
    domain,
    handoff_packets,
    responses,
    run,
    slot_values,
    verified,
)

WUHOU = verified(region="成都武侯区", tier="general", name="王先生")


def set_grid(code: str, **values: object) -> None:
    with session_scope() as session:
        grid = session.get(Grid, code)
        for name, value in values.items():
            setattr(grid, name, value)


async def test_a_customer_who_asks_is_told_who_helps_and_the_packet_follows(settings, open_hours):
    tracker = conversation(("宽带一直断网怎么办", "ask_faq"), ("转人工", "request_human"), metadata=WUHOU)
    events, dispatcher = await run(ActionRequestHuman(), tracker)
    transfer, custom = dispatcher.messages
    assert (transfer["response"], transfer["grid_name"]) == ("utter_human_transferring", "成都武侯网格")
    [packet] = handoff_packets(dispatcher)
    assert custom["custom"] == {"griddesk": {"handoff": packet}}
    assert (packet["reason"], packet["grid"], packet["summary"]) == (
        "customer_request",
        "cd-wuhou",
        "宽带一直断网怎么办",
    )
    assert packet["intent"] == {"name": "request_human", "confidence": 0.97}
    assert packet["profile"]["region"] == "成都武侯区"
    assert events == []


def test_the_transfer_text_names_the_grid_as_a_variable():
    [text] = domain()["responses"]["utter_human_transferring"]
    assert text["text"] == "正在为您转接{grid_name}的人工客服，请稍候…"


async def test_a_key_account_goes_to_the_key_account_grid(settings, open_hours):
    tracker = conversation(("转人工", "request_human"), metadata=verified(region="成都武侯区", tier="key"))
    _, dispatcher = await run(ActionRequestHuman(), tracker)
    assert [p["grid"] for p in handoff_packets(dispatcher)] == ["key-accounts"]


async def test_a_tier_the_page_claims_is_ignored_and_the_customer_lands_in_the_general_grid(settings, open_hours):
    forged = {"customer": {"region": "成都武侯区", "tier": "key"}, "griddesk_customer": {}}
    _, dispatcher = await run(ActionRequestHuman(), conversation(("转人工", "request_human"), metadata=forged))
    [packet] = handoff_packets(dispatcher)
    assert packet["grid"] == "central" and "profile" not in packet


async def test_outside_business_hours_no_packet_is_sent_and_a_ticket_is_offered(settings, night):
    tracker = conversation(("转人工", "request_human"), metadata=WUHOU, slots={"faq_misses": 1})
    events, dispatcher = await run(ActionRequestHuman(), tracker)
    assert handoff_packets(dispatcher) == []
    [message] = dispatcher.messages
    assert message["response"] == "utter_human_closed"
    assert (message["grid_name"], message["hours"], message["opens"]) == (
        "成都武侯网格",
        "每天 8:00–22:00",
        "11月24日（周二）8:00",
    )
    [text] = domain()["responses"]["utter_human_closed"]
    assert text["buttons"] == [
        {"title": "留言（提交工单）", "payload": "/create_ticket"},
        {"title": "返回智能助手", "payload": "/greet"},
    ]
    assert "create_ticket" in domain()["intents"] and "greet" in domain()["intents"]
    assert slot_values(events) == {"faq_misses": 0}


async def test_the_key_account_grid_serves_at_night(settings, night):
    tracker = conversation(("转人工", "request_human"), metadata=verified(region="成都武侯区", tier="key"))
    _, dispatcher = await run(ActionRequestHuman(), tracker)
    assert [p["grid"] for p in handoff_packets(dispatcher)] == ["key-accounts"]


async def test_a_billing_question_on_saturday_finds_the_billing_grid_closed(settings, set_clock):
    set_clock(SATURDAY_MORNING)
    tracker = conversation(
        ("发票开错了", "ask_faq"), ("转人工", "request_human"), metadata=WUHOU, slots={"faq_category": "发票"}
    )
    _, dispatcher = await run(ActionRequestHuman(), tracker)
    [message] = dispatcher.messages
    assert (message["response"], message["grid_name"], message["hours"]) == (
        "utter_human_closed",
        "账务网格",
        "周一至周五 9:00–18:00",
    )
    assert message["opens"] == "11月30日（周一）9:00"
    assert handoff_packets(dispatcher) == []


async def test_a_human_asked_for_inside_a_form_stops_the_form_and_the_pending_confirmation(settings, open_hours):
    tracker = conversation(
        ("转人工", "request_human"),
        active_loop="ticket_form",
        slots={
            "requested_slot": "ticket_phone",
            "ticket_confirming": True,
            "faq_misses": 1,
            "ticket_category": "fault",
            "ticket_description": "宽带一直断网",
        },
    )
    events, dispatcher = await run(ActionRequestHuman(), tracker)
    assert {"event": "active_loop", "name": None, "timestamp": None} in events
    assert slot_values(events) == {"requested_slot": None, "ticket_confirming": False, "faq_misses": 0}
    [packet] = handoff_packets(dispatcher)
    assert packet["draft_ticket"] == {"category": "fault", "description": "宽带一直断网"}


async def test_a_calendar_an_admin_got_wrong_still_lets_the_customer_reach_a_human(settings, night):
    set_grid("cd-wuhou", business_hours={"days": "weekdays", "open": "9", "close": "18"})
    _, dispatcher = await run(ActionRequestHuman(), conversation(("转人工", "request_human"), metadata=WUHOU))
    assert [p["grid"] for p in handoff_packets(dispatcher)] == ["cd-wuhou"]


async def test_when_no_grid_serves_the_customer_the_bot_says_so_and_offers_a_ticket(settings, open_hours):
    with session_scope() as session:
        session.execute(delete(Grid))
    events, dispatcher = await run(ActionRequestHuman(), conversation(("转人工", "request_human")))
    assert responses(dispatcher) == ["utter_human_unavailable"] and handoff_packets(dispatcher) == []
    assert events == []
