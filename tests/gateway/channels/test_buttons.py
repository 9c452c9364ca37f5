"""A number typed on a platform without buttons picks a button of the last outgoing message."""

from __future__ import annotations

from conversations.models import Author, MessageStatus
from conversations.transcript import append_messages, get_or_create_conversation
from gateway.channels.buttons import numbered, resolve_choice_by_sender
from griddesk.db import session_scope

MENU = {
    "text": "您是想问下面哪个问题呢?",
    "buttons": [
        {"title": "怎么开发票", "payload": '/choose_faq{"faq_id": "3"}'},
        {"title": "都不是", "payload": "/none_of_these"},
    ],
}


def test_a_number_names_a_button_of_the_last_outgoing_message(settings):
    with session_scope() as session:
        conversation = get_or_create_conversation(session, "wecom:lisi", "wecom")
        append_messages(
            session,
            conversation.id,
            [
                (Author.CUSTOMER, "票的事", None, MessageStatus.ANSWERED),
                (Author.BOT, MENU["text"], MENU, MessageStatus.SENT),
            ],
        )
        assert resolve_choice_by_sender(session, "wecom:lisi", "1") == '/choose_faq{"faq_id": "3"}'
        assert resolve_choice_by_sender(session, "wecom:lisi", " ２ ") == "/none_of_these"  # full-width too
        assert resolve_choice_by_sender(session, "wecom:lisi", "3") == "3"  # no third button: the text itself
        assert resolve_choice_by_sender(session, "wecom:lisi", "12") == "12"
        assert resolve_choice_by_sender(session, "wecom:nobody", "1") == "1"


def test_a_menu_older_than_the_last_outgoing_message_is_not_used(settings):
    with session_scope() as session:
        conversation = get_or_create_conversation(session, "wecom:wangwu", "wecom")
        append_messages(
            session,
            conversation.id,
            [
                (Author.BOT, MENU["text"], MENU, MessageStatus.SENT),
                (Author.AGENT, "您好", {"agent_name": "张伟"}, MessageStatus.SENT),
            ],
        )
        assert resolve_choice_by_sender(session, "wecom:wangwu", "1") == "1"


def test_buttons_become_a_numbered_list_for_text_only_platforms():
    assert numbered("请选择", MENU["buttons"]) == "请选择\n回复数字选择：\n1. 怎么开发票\n2. 都不是"
    assert numbered("你好", []) == "你好"
