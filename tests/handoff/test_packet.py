from __future__ import annotations

import pytest

from handoff.models import HandoffReason
from handoff.packet import PacketError, parse_packet

FULL = {
    "reason": "repeated_misses",
    "grid": "cd-wuhou",
    "skill": "billing",
    "intent": {"name": "ask_faq", "confidence": 0.42},
    "faq_candidates": [
        {"faq_id": 12, "question": "怎么开发票", "score": 0.61},
        {"faq_id": 3, "question": "发票抬头怎么改", "score": 0.4},
    ],
    "slots": {"ticket_category": "billing", "amount": 120.5, "confirmed": False, "phone": None},
    "draft_ticket": {"category": "billing", "description": "发票开错了"},
    "ticket_number": "GD-7KQ2MX",
    "profile": {"region": "成都市武侯区", "tier": "general", "name": "张三"},
    "summary": "客户最后的问题",
}


def test_a_full_packet_survives_parsing_unchanged():
    packet = parse_packet(FULL)
    assert packet.reason is HandoffReason.REPEATED_MISSES and packet.skill == "billing"
    assert packet.faq_candidates[0].faq_id == 12 and packet.intent.confidence == 0.42
    assert packet.to_json() == FULL


def test_only_reason_and_grid_are_required_and_absent_fields_stay_absent():
    packet = parse_packet({"reason": "customer_request", "grid": " billing "})
    assert packet.to_json() == {"reason": "customer_request", "grid": "billing"}
    assert parse_packet({"reason": "rule", "grid": "x", "skill": None, "intent": None}).to_json() == {
        "reason": "rule",
        "grid": "x",
    }


def test_unknown_keys_are_dropped_everywhere():
    raw = {
        **FULL,
        "password": "secret",
        "html": "<script>",
        "profile": {**FULL["profile"], "id_card": "5101"},
        "intent": {**FULL["intent"], "entities": []},
        "faq_candidates": [{"faq_id": 1, "question": "q", "score": 1, "answer": "long"}],
    }
    out = parse_packet(raw).to_json()
    assert "password" not in out and "html" not in out
    assert out["profile"] == FULL["profile"]
    assert out["intent"] == FULL["intent"]
    assert out["faq_candidates"] == [{"faq_id": 1, "question": "q", "score": 1.0}]


def test_a_packet_without_a_profile_region_keeps_the_rest_of_the_profile():
    assert parse_packet({"reason": "rule", "grid": "x", "profile": {"tier": "key"}}).profile == {"tier": "key"}


@pytest.mark.parametrize(
    "change",
    [
        {"reason": "because"},
        {"reason": None},
        {"reason": 1},
        {"grid": None},
        {"grid": ""},
        {"grid": 7},
        {"grid": "g" * 65},
        {"skill": ["billing"]},
        {"intent": "request_human"},
        {"intent": {"name": "request_human", "confidence": 1.5}},
        {"intent": {"name": "request_human", "confidence": "high"}},
        {"intent": {"name": "request_human", "confidence": True}},
        {"intent": {"name": "", "confidence": 0.5}},
        {"intent": {"confidence": 0.5}},
        {"faq_candidates": {"faq_id": 1}},
        {"faq_candidates": [{"faq_id": i, "question": "q", "score": 0.1} for i in range(6)]},
        {"faq_candidates": [{"faq_id": "12", "question": "q", "score": 0.1}]},
        {"faq_candidates": [{"faq_id": 12, "question": "问" * 201, "score": 0.1}]},
        {"faq_candidates": [{"faq_id": 12, "question": "q", "score": float("nan")}]},
        {"faq_candidates": ["怎么开发票"]},
        {"slots": ["a"]},
        {"slots": {f"slot{i}": "v" for i in range(31)}},
        {"slots": {"description": "长" * 501}},
        {"slots": {"nested": {"a": 1}}},
        {"slots": {"list": [1, 2]}},
        {"draft_ticket": {f"k{i}": "v" for i in range(21)}},
        {"draft_ticket": "fault"},
        {"ticket_number": "GD-" + "X" * 30},
        {"ticket_number": 12345},
        {"profile": "成都"},
        {"profile": {"region": "区" * 65}},
        {"profile": {"tier": 3}},
        {"summary": "长" * 501},
        {"summary": {"text": "x"}},
    ],
)
def test_wrong_types_and_oversized_fields_are_refused(change):
    with pytest.raises(PacketError):
        parse_packet({**FULL, **change})


@pytest.mark.parametrize("raw", [None, "reason=customer_request", ["customer_request", "cd-wuhou"], 42])
def test_a_packet_that_is_not_an_object_is_refused(raw):
    with pytest.raises(PacketError):
        parse_packet(raw)


def test_packet_error_is_a_value_error():
    assert issubclass(PacketError, ValueError)
