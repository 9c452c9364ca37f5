"""The handoff packet (docs/handoff.md) built from trackers, and the grid a customer is routed to."""

from __future__ import annotations

import pytest

from actions.handoff_packet import (
    MAX_CANDIDATES,
    MAX_PROFILE_FIELD,
    MAX_QUESTION,
    MAX_SLOTS,
    MAX_SUMMARY,
    MAX_VALUE,
    build_packet,
    route_for,
    service_category,
)
from griddesk.db import session_scope
from handoff.packet import parse_packet
from tests.actions.trackers import conversation, verified

CANDIDATES = [{"faq_id": n, "question": f"问题{n}", "score": 0.6 - n / 100, "category": "发票"} for n in range(1, 6)]
DRAFT_SLOTS = {
    "ticket_category": "fault",
    "ticket_description": "宽带一直断网",
    "ticket_phone": "13812345678",
    "ticket_name": None,
    "ticket_region": None,
}
CUSTOMER = verified(region="成都武侯区", tier="general", name="王先生")


def test_a_packet_carries_intent_candidates_slots_draft_profile_and_the_last_question():
    tracker = conversation(
        ("宽带一直断网怎么办", "ask_faq"),
        ("转人工", "request_human"),
        metadata=CUSTOMER,
        slots={
            **DRAFT_SLOTS,
            "faq_candidates": CANDIDATES,
            "faq_misses": 1,
            "ticket_failures": {},
            "requested_slot": "ticket_name",
            "ticket_confirming": False,
        },
    )
    packet = build_packet(tracker, "customer_request", grid_code="cd-wuhou")
    assert packet == {
        "reason": "customer_request",
        "grid": "cd-wuhou",
        "skill": "fault",
        "intent": {"name": "request_human", "confidence": 0.97},
        "faq_candidates": [
            {"faq_id": 1, "question": "问题1", "score": 0.59},
            {"faq_id": 2, "question": "问题2", "score": 0.58},
            {"faq_id": 3, "question": "问题3", "score": 0.57},
        ],
        "slots": {"ticket_category": "fault", "ticket_description": "宽带一直断网", "ticket_phone": "13812345678"},
        "draft_ticket": {"category": "fault", "description": "宽带一直断网", "contact_phone": "13812345678"},
        "profile": {"region": "成都武侯区", "tier": "general", "name": "王先生"},
        "summary": "宽带一直断网怎么办",
    }


def test_the_summary_skips_requests_for_a_human_buttons_and_small_talk():
    tracker = conversation(
        ("我的发票抬头开错了能重开吗", "nlu_fallback"),
        ("都不是", "none_of_these"),
        ("/choose_faq", "choose_faq"),
        ("谢谢", "thank"),
        ("人工客服", "request_human"),
    )
    assert build_packet(tracker, "customer_request", grid_code="central")["summary"] == "我的发票抬头开错了能重开吗"


def test_only_reason_and_grid_when_nothing_is_known():
    tracker = conversation(("/request_human", "request_human"))
    assert build_packet(tracker, "customer_request", grid_code="central") == {
        "reason": "customer_request",
        "grid": "central",
        "intent": {"name": "request_human", "confidence": 0.97},
    }


def test_with_a_ticket_number_no_draft_is_sent():
    tracker = conversation(("我要投诉", "complain"), slots=DRAFT_SLOTS | {"ticket_category": "complaint"})
    packet = build_packet(tracker, "complaint", grid_code="cd-wuhou", ticket_number="GD-7KQ2MX")
    assert packet["ticket_number"] == "GD-7KQ2MX" and "draft_ticket" not in packet
    assert packet["skill"] == "complaint"


def test_the_profile_is_the_verified_customers_only():
    # what the ticket form collected belongs to the draft ticket; a tier slot or a page's claim is no profile
    tracker = conversation(
        ("转人工", "request_human"),
        slots={"ticket_region": "上海市浦东新区", "ticket_name": "李四", "customer_tier": "key"},
        metadata={"customer": {"region": "上海市浦东新区", "tier": "key", "name": "李四"}},
    )
    assert "profile" not in build_packet(tracker, "customer_request", grid_code="central")


def test_the_newest_message_says_who_the_customer_is():
    tracker = conversation(("你好", "greet"), ("转人工", "request_human"), metadata=CUSTOMER)
    tracker.events[-1]["metadata"] = verified(region="上海浦东", tier="key")
    assert build_packet(tracker, "customer_request", grid_code="x")["profile"] == {"region": "上海浦东", "tier": "key"}
    tracker.events[-1]["metadata"] = {"griddesk_customer": {}}  # anonymous now: an older message does not count
    assert "profile" not in build_packet(tracker, "customer_request", grid_code="x")


def test_the_digits_typed_to_unlock_a_ticket_are_not_sent():
    tracker = conversation(("转人工", "request_human"), slots={"ticket_number": "GD-7K3QX9", "ticket_last4": "5678"})
    assert build_packet(tracker, "form_failures", grid_code="central")["slots"] == {"ticket_number": "GD-7K3QX9"}


def test_an_unknown_reason_is_refused():
    with pytest.raises(ValueError, match="unknown handoff reason"):
        build_packet(conversation(("转人工", "request_human")), "bored", grid_code="central")


def test_the_packet_never_exceeds_its_sizes_and_the_gateway_accepts_it():
    long = "很长的问题" * 300
    slots = {f"extra_{n:02d}": f"值{n}" for n in range(40)} | {
        "ticket_description": long,
        "faq_candidates": [{**c, "question": long} for c in CANDIDATES],
        "ticket_category": "fault",
        "listy": ["a"] * 400,
    }
    tracker = conversation(
        (long, "ask_faq"),
        ("转人工", "request_human"),
        slots=slots,
        metadata=verified(region="成" * 200, tier="general", name="名" * 200),
    )
    packet = build_packet(tracker, "customer_request", grid_code="cd-wuhou")
    assert len(packet["summary"]) == MAX_SUMMARY
    assert len(packet["faq_candidates"]) == MAX_CANDIDATES
    assert all(len(c["question"]) == MAX_QUESTION for c in packet["faq_candidates"])
    assert len(packet["slots"]) == MAX_SLOTS
    assert all(len(str(v)) <= MAX_VALUE for v in packet["slots"].values())
    assert len(packet["draft_ticket"]["description"]) == MAX_VALUE
    assert all(len(v) <= MAX_PROFILE_FIELD for v in packet["profile"].values())
    assert parse_packet(packet).to_json() == packet


@pytest.mark.parametrize(
    "value, expected",
    [
        ("billing", "billing"),
        ("发票", "billing"),
        ("账务与缴费", "billing"),
        ("售后与退款", "refund"),
        ("故障报修", "fault"),
        ("工单", None),
        (None, None),
        ("", None),
    ],
)
def test_ticket_and_faq_categories_map_to_the_grids_service_categories(value, expected):
    assert service_category(value) == expected


@pytest.mark.parametrize(
    "metadata, slots, category, expected",
    [
        (verified(region="成都武侯区"), {}, None, "cd-wuhou"),
        (verified(region="成都武侯区", tier="key"), {}, None, "key-accounts"),
        (verified(region="成都锦江区"), {}, None, "cd-jinjiang"),
        (verified(region="成都锦江区"), {"ticket_region": "成都市武侯区"}, None, "cd-jinjiang"),
        (None, {"ticket_region": "成都市武侯区"}, None, "cd-wuhou"),  # the ticket form's region
        (None, {"ticket_region": "成都市武侯区", "ticket_category": "refund"}, None, "billing"),
        (None, {"faq_category": "发票"}, None, "billing"),  # the last FAQ question was about invoices
        (verified(region="成都武侯区"), {}, "billing", "billing"),
        (None, {}, None, "central"),
        # what a page claims, a tier slot, or a client's own griddesk_customer on an older message: no routing
        ({"customer": {"region": "成都武侯区", "tier": "key"}}, {}, None, "central"),
        (None, {"customer_tier": "key"}, None, "central"),
        ({"customer": {"tier": "key"}}, {"ticket_region": "成都市武侯区"}, None, "cd-wuhou"),
    ],
)
def test_the_customer_is_routed_by_profile_tier_and_category(settings, metadata, slots, category, expected):
    tracker = conversation(("转人工", "request_human"), metadata=metadata, slots=slots)
    with session_scope() as session:
        assert route_for(session, tracker, category).code == expected
