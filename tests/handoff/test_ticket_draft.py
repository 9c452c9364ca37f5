"""A ticket from a chat, pre-filled (issue 14, item 9): the category from the packet and the customer's
words, the phone the customer typed, the question without 转人工, the verified tier and the chat's grid."""

from __future__ import annotations

import pytest

from conversations.models import Author, MessageStatus
from conversations.transcript import append_messages
from griddesk.db import session_scope
from handoff.ticket_draft import ticket_draft
from tests.factories import make_conversation, make_customer, make_handoff
from tickets.fields import category_in, find_phone


def draft_for(texts, customer=None, grid="cd-wuhou", later=(), **packet):
    with session_scope() as session:
        conversation = make_conversation(session, "c1", texts, customer=customer)
        handoff = make_handoff(session, "c1", grid, **packet)
        append_messages(session, conversation.id, [(Author.CUSTOMER, text, None, MessageStatus.SENT) for text in later])
        return ticket_draft(session, handoff)


def test_a_described_fault_is_a_fault_ticket_with_the_question_and_the_phone_the_customer_typed(settings):
    draft = draft_for(
        ("你好", "我家宽带断网两天了，一直连不上", "转人工"),
        later=("我的电话是 138-1234-5678", "/affirm"),
        summary="我家宽带断网两天了，一直连不上",
    )
    assert draft["category"] == "fault"
    assert draft["description"] == "我家宽带断网两天了，一直连不上"  # no greeting, no 转人工, no phone
    assert "转人工" not in draft["description"] and "138" not in draft["description"]
    assert draft["contact_phone"] == "13812345678"
    assert draft["grid"] == "cd-wuhou"


def test_the_phone_typed_in_the_chat_comes_before_the_record_and_the_record_fills_the_rest(settings):
    key = make_customer("vip-1", name="赵总", phone="13900139000", region="成都市武侯区", tier="key")
    typed = draft_for(("发票开错了", "转人工"), customer=key, grid="key-accounts", later=("打这个 13700137000",))
    assert (typed["contact_phone"], typed["contact_name"], typed["customer_tier"], typed["grid"]) == (
        "13700137000",
        "赵总",
        "key",
        "key-accounts",
    )
    assert typed["category"] == "billing"


@pytest.mark.parametrize(
    "packet, texts, expected",
    [
        ({"slots": {"ticket_category": "refund"}}, ("转人工",), "refund"),  # the bot's form said so
        ({"reason": "complaint"}, ("转人工",), "complaint"),
        ({"intent": {"name": "complain", "confidence": 0.9}}, ("你们太慢了",), "complaint"),
        ({"skill": "billing"}, ("转人工",), "billing"),  # the service the action server routed by
        ({}, ("网速很慢看视频一直卡", "转人工"), "fault"),
        ({}, ("转人工",), "consultation"),  # nothing to go on
    ],
)
def test_the_category_comes_from_the_packet_then_the_customers_words(settings, packet, texts, expected):
    assert draft_for(texts, **packet)["category"] == expected


def test_phones_and_categories_are_found_in_what_customers_write():
    assert find_phone("电话 +86 138 1234 5678，谢谢") == "13812345678"
    assert find_phone("座机 028-85551234") == "02885551234"
    assert find_phone("订单 12345678901234") is None
    assert category_in("宽带断网了") == "fault" and category_in("你好") is None


def test_button_presses_are_left_out_of_the_description(settings):
    """Presses are stored by their titles (issue 14 item 2): 没帮助 is not something the customer asked."""
    from conversations.transcript import BUTTON_KEY

    with session_scope() as session:
        conversation = make_conversation(session, "c1", ("宽带断了",))
        append_messages(
            session,
            conversation.id,
            [
                (Author.CUSTOMER, "没帮助", {BUTTON_KEY: '/faq_feedback{"helpful": "no"}'}, MessageStatus.ANSWERED),
                (Author.CUSTOMER, "/affirm", None, MessageStatus.ANSWERED),
                (Author.CUSTOMER, "光猫亮红灯", None, MessageStatus.ANSWERED),
            ],
        )
        handoff = make_handoff(session, "c1")
        assert ticket_draft(session, handoff)["description"] == "宽带断了 / 光猫亮红灯"
