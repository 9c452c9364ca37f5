"""The transcript's reading of button presses: a press is shown by the title the customer chose."""

from __future__ import annotations

from conversations.models import Author, Message, MessageStatus
from conversations.transcript import (
    BUTTON_KEY,
    BUTTON_SEARCH_DEPTH,
    append_messages,
    button_title,
    get_or_create_conversation,
    typed_by_customer,
)
from griddesk.db import session_scope

HELPFUL = '/faq_feedback{"faq_id": "3", "helpful": "yes"}'


def offer(session, conversation_id: int, title: str, payload: str, custom: bool = False) -> None:
    buttons = [{"title": title, "payload": payload}]
    reply = {"custom": {"text": "请选择", "buttons": buttons}} if custom else {"text": "请选择", "buttons": buttons}
    append_messages(session, conversation_id, [(Author.BOT, "请选择", reply, MessageStatus.SENT)])


def test_a_payload_is_named_by_the_title_of_the_latest_button_that_sends_it(settings):
    with session_scope() as session:
        conversation = get_or_create_conversation(session, "c1")
        offer(session, conversation.id, "有用", HELPFUL)
        offer(session, conversation.id, "有帮助", HELPFUL, custom=True)
        assert button_title(session, conversation.id, HELPFUL) == "有帮助"
        assert button_title(session, conversation.id, "/affirm") is None  # typed by hand: no button sent it


def test_a_button_too_far_back_is_not_searched(settings):
    with session_scope() as session:
        conversation = get_or_create_conversation(session, "c1")
        offer(session, conversation.id, "有帮助", HELPFUL)
        for _ in range(BUTTON_SEARCH_DEPTH):
            append_messages(session, conversation.id, [(Author.BOT, "好的", {"text": "好的"}, MessageStatus.SENT)])
        assert button_title(session, conversation.id, HELPFUL) is None


def test_only_what_the_customer_typed_counts_as_their_words():
    def customer(text: str, payload: dict | None = None) -> Message:
        return Message(author=Author.CUSTOMER, text=text, payload=payload)

    assert typed_by_customer(customer("宽带断了"))
    assert not typed_by_customer(customer("有帮助", {BUTTON_KEY: HELPFUL}))
    assert not typed_by_customer(customer("/affirm"))
    assert not typed_by_customer(Message(author=Author.BOT, text="您好"))
