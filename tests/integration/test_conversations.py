"""Customers talking to the real stack through the gateway's REST channel."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from conversations.models import Author, Conversation, Message, MessageStatus
from handoff import messages
from tests.integration.client import Customer, request
from tests.integration.conftest import API_TOKEN

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "question, fragment",
    [
        ("你们的服务时间是几点到几点", "8:00"),
        ("怎么开发票", "发票"),
        ("投诉多久能处理", "1小时"),
        ("你們的電話是多少", "400-800-1234"),
    ],
)
def test_demo_questions_are_answered_from_the_knowledge_base(stack, question, fragment):
    replies = Customer(stack.settings.gateway_url).say(question)
    assert len(replies) == 1 and fragment in replies[0]["text"]
    # every answer asks for feedback (有帮助 / 没帮助) on the answer itself
    assert [b["title"] for b in replies[0]["buttons"]] == ["有帮助", "没帮助"]
    assert all(b["payload"].startswith('/faq_feedback{"faq_id": "') for b in replies[0]["buttons"])


def test_greeting_human_request_and_complaint_follow_the_rules(stack):
    customer = Customer(stack.settings.gateway_url)
    assert any("您好" in t or "你好" in t for t in customer.texts("你好"))
    assert any("转接" in t and "人工客服" in t for t in customer.texts("转人工"))
    assert customer.status()["owner"] == "queued"
    customer.say("/griddesk_back_to_bot")
    complaint = customer.texts("你们服务太差了,我要投诉")
    assert len(complaint) == 2 and "投诉" in complaint[0]


def test_a_vague_question_offers_buttons_and_a_button_answers(stack):
    customer = Customer(stack.settings.gateway_url)
    replies = customer.say("账单和那个票的事")
    with_buttons = [r for r in replies if r.get("buttons")]
    assert with_buttons, replies
    buttons = with_buttons[0]["buttons"]
    assert buttons[-1] == {"title": "都不是", "payload": "/none_of_these"}
    chosen = buttons[0]
    answer = customer.say(chosen["payload"])
    assert len(answer) == 1 and answer[0]["text"]
    query = urlencode({"q": chosen["title"], "k": 1})
    hits = request(
        "GET",
        f"{stack.settings.gateway_url}/api/v1/kb/search?{query}",
        headers={"Authorization": f"Bearer {API_TOKEN}"},
    ).body
    assert answer[0]["text"] == hits["hits"][0]["answer"]
    none = customer.texts("/none_of_these")
    assert none and "人工" in none[0]


def test_the_transcript_keeps_every_message_in_order(stack):
    customer = Customer(stack.settings.gateway_url)
    customer.say("怎么开发票")
    customer.say("谢谢")
    engine = create_engine(stack.settings.database_url)
    with Session(engine) as session:
        conversation = session.scalars(select(Conversation).where(Conversation.sender_id == customer.sender)).one()
        rows = session.scalars(
            select(Message).where(Message.conversation_id == conversation.id).order_by(Message.seq)
        ).all()
    engine.dispose()
    assert [m.seq for m in rows] == list(range(1, len(rows) + 1))
    assert [(m.author, m.text) for m in rows if m.author == Author.CUSTOMER] == [
        (Author.CUSTOMER, "怎么开发票"),
        (Author.CUSTOMER, "谢谢"),
    ]
    assert all(m.status == MessageStatus.ANSWERED for m in rows if m.author == Author.CUSTOMER)
    assert rows[1].author == Author.BOT and "发票" in rows[1].text


def test_bad_input_is_refused_by_the_running_gateway(stack):
    url = f"{stack.settings.gateway_url}/webhooks/rest/webhook"
    sender = Customer(stack.settings.gateway_url).sender
    assert request("POST", url, {"sender": sender, "message": "长" * 10001}).status == 413
    assert request("POST", url, {"sender": sender, "message": ""}).status == 422
    assert request("POST", url, {"sender": 1, "message": "hi"}).status == 422
    guessable = request("POST", url, {"sender": "test", "message": "你好"})
    assert guessable.status == 422 and "随机" in guessable.body["error"]["message"]


def test_when_the_action_server_is_down_the_customer_is_told_and_the_message_kept(stack):
    actions = stack.service("actions")
    actions.stop()
    try:
        customer = Customer(stack.settings.gateway_url)
        reply = request("POST", customer.url, {"sender": customer.sender, "message": "怎么开发票"})
        assert reply.status == 200
        assert reply.body == [{"recipient_id": customer.sender, "text": messages.BOT_UNAVAILABLE}]
        assert reply.headers.get("X-GridDesk-Degraded") == "bot-unavailable"
    finally:
        stack.restart("actions")
    assert "发票" in Customer(stack.settings.gateway_url).texts("怎么开发票")[0]
