"""The inbox's pure parts: control payloads, what the bot is sent, the handoff packet in Rasa's reply, the
customer profile."""

from __future__ import annotations

import pytest

from gateway.inbox import TYPED_KEY, Control, Incoming, for_the_bot, parse_control, profile_of, split_handoff


@pytest.mark.parametrize(
    "text, expected",
    [
        ("/griddesk_keep_waiting", (Control.KEEP_WAITING, None)),
        ("/griddesk_leave_message", (Control.LEAVE_MESSAGE, None)),
        ("/griddesk_back_to_bot", (Control.BACK_TO_BOT, None)),
        ('/griddesk_rate{"score": 4}', (Control.RATE, 4)),
        ('/griddesk_rate{"score": "4"}', (Control.RATE, None)),
        ('/griddesk_rate{"score": true}', (Control.RATE, None)),
        ("/griddesk_rate{not json}", (Control.RATE, None)),
        ("/griddesk_keep_waiting please", (None, None)),
        ("返回智能助手", (None, None)),
    ],
)
def test_control_payloads_are_recognised_exactly(text, expected):
    assert parse_control(text) == expected


def test_the_handoff_packet_is_taken_out_of_what_the_customer_sees():
    packet = {"reason": "customer_request", "grid": "cd-wuhou"}
    replies = [
        {"recipient_id": "c", "text": "正在为您转接"},
        {"recipient_id": "c", "custom": {"griddesk": {"handoff": packet}}},
        {"recipient_id": "c", "custom": {"kind": "card"}},
    ]
    visible, packets = split_handoff(replies)
    assert visible == [replies[0], replies[2]]
    assert packets == [packet]


def test_the_profile_keeps_known_short_text_fields_only():
    metadata = {
        "customer": {"region": " 成都市武侯区 ", "tier": "key", "name": "王" * 100, "role": "admin", "region2": "x"}
    }
    assert profile_of(metadata) == {"region": "成都市武侯区", "tier": "key", "name": "王" * 64}
    assert profile_of({"customer": "成都"}) == {} and profile_of(None) == {}
    assert profile_of({"customer": {"tier": 3}}) == {}


CUSTOMER = {"customer": {"region": "成都市武侯区"}}


def test_typed_text_goes_to_the_bot_in_normal_form_with_what_was_typed_in_the_metadata():
    text, metadata = for_the_bot(Incoming("c1", "光貓一直亮紅燈！！！", CUSTOMER))
    assert text == "光猫一直亮红灯!"
    assert metadata == {**CUSTOMER, TYPED_KEY: "光貓一直亮紅燈！！！"}


def test_text_already_in_normal_form_goes_as_it_is():
    assert for_the_bot(Incoming("c1", "怎么开发票", CUSTOMER)) == ("怎么开发票", CUSTOMER)
    assert for_the_bot(Incoming("c1", "怎么开发票", None)) == ("怎么开发票", None)


def test_button_payloads_are_never_rewritten():
    payload = '/choose_faq{"faq_id": "12"}'
    assert for_the_bot(Incoming("c1", payload, None)) == (payload, None)


def test_a_request_for_a_person_goes_as_the_request_human_intent_and_a_question_about_one_does_not():
    assert for_the_bot(Incoming("c1", "人工！！！人工！！！", None)) == ("/request_human", None)
    assert for_the_bot(Incoming("c1", "人工客服幾點上班", None))[0] == "人工客服几点上班"
