"""Tell the customer about a ticket's progress in their own conversation.

The message is written to the conversation's transcript in the caller's transaction, so it exists
exactly when the change does: a customer whose chat is open sees it at the next poll, one who has
left sees it on the next visit (kept, never lost).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations.models import Author, Conversation, MessageStatus
from conversations.transcript import append_messages
from grids.models import Grid
from tickets.labels import STATE_LABELS
from tickets.models import Ticket, TicketState

STATE_NEWS = {
    TicketState.ANALYSING: "我们正在分析您的问题",
    TicketState.IN_PROGRESS: "我们正在为您处理",
    TicketState.RESOLVED: "问题已解决，如仍有疑问请直接回复，我们会继续跟进",
    TicketState.CLOSED: "工单已关闭，感谢您的反馈",
}


def state_change_text(ticket: Ticket, grid_name: str) -> str:
    state = TicketState(ticket.state)
    return (
        f"【工单进度】您的工单 {ticket.number} 状态已更新为「{STATE_LABELS[state]}」"
        f"（{grid_name}）：{STATE_NEWS.get(state, '')}。"
    )


def notify_state_change(session: Session, ticket: Ticket) -> bool:
    """Post the new state into the conversation the ticket came from; False if it has none."""
    if not ticket.sender_id:
        return False
    conversation = session.scalar(select(Conversation).where(Conversation.sender_id == ticket.sender_id))
    if conversation is None:
        return False
    grid = session.get(Grid, ticket.grid_code)
    text = state_change_text(ticket, grid.name if grid else ticket.grid_code)
    append_messages(
        session, conversation.id, [(Author.SYSTEM, text, {"text": text, "ticket": ticket.number}, MessageStatus.SENT)]
    )
    return True
