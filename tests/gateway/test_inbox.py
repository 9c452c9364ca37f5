"""The inbox's pure parts: control payloads, what the bot is sent, the handoff packet in Rasa's reply, what is
kept of the customer."""

from __future__ import annotations

import pytest

from gateway.inbox import TYPED_KEY, Control, bot_metadata, claimed_name, for_the_bot, parse_control, split_handoff


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


def test_of_an_unverified_customer_only_a_short_name_is_kept():
    metadata = {"customer": {"region": " 成都市武侯区 ", "tier": "key", "name": " " + "王" * 100, "role": "admin"}}
    assert claimed_name(metadata) == "王" * 64
    assert claimed_name({"customer": "成都"}) is None and claimed_name(None) is None
    assert claimed_name({"customer": {"name": 3}}) is None and claimed_name({"customer": {"name": "  "}}) is None


def test_rasa_gets_the_verified_customer_under_the_gateways_key_and_no_identity_claims():
    metadata = {
        "customer": {"id": "u-1", "tier": "key", "signature": "ab"},
        "customer_token": "x.y.z",
        "griddesk_customer": {"tier": "key"},
        "language": "zh",
    }
    assert bot_metadata(metadata, {}) == {"language": "zh", "griddesk_customer": {}}
    assert bot_metadata(None, {"id": 7, "tier": "key"}) == {"griddesk_customer": {"id": 7, "tier": "key"}}


def test_typed_text_goes_to_the_bot_in_normal_form_with_what_was_typed_in_the_metadata():
    assert for_the_bot("光貓一直亮紅燈！！！") == ("光猫一直亮红灯!", {TYPED_KEY: "光貓一直亮紅燈！！！"})


def test_text_already_in_normal_form_goes_as_it_is():
    assert for_the_bot("怎么开发票") == ("怎么开发票", {})


def test_button_payloads_are_never_rewritten():
    payload = '/choose_faq{"faq_id": "12"}'
    assert for_the_bot(payload) == (payload, {})


def test_a_request_for_a_person_goes_as_the_request_human_intent_and_a_question_about_one_does_not():
    assert for_the_bot("人工！！！人工！！！") == ("/request_human", {})
    assert for_the_bot("人工客服幾點上班")[0] == "人工客服几点上班"


def test_a_client_cannot_set_what_the_customer_typed():
    assert TYPED_KEY not in bot_metadata({TYPED_KEY: "伪造的描述", "language": "zh"}, {})
