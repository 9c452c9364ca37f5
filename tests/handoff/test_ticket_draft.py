"""The ticket an agent starts from a chat: what the customer typed fills the description, button presses
(stored by their titles) do not."""

from __future__ import annotations

from conversations.models import Author, MessageStatus
from conversations.transcript import BUTTON_KEY, append_messages
from griddesk.db import session_scope
from handoff.ticket_draft import ticket_draft
from tests.factories import make_conversation, make_handoff


def test_button_presses_are_left_out_of_the_description(settings):
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
