"""Small reads and writes the handoff services (queue, assignment, sweep) share; no HTTP here."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from accounts.models import Account
from conversations.models import Author, Conversation, Message, Owner
from grids.models import Grid
from handoff.models import Handoff, HandoffStatus
from handoff.ownership import HandoffNotFound
from handoff.triggers import wants_human

PLEASANTRIES = frozenset(
    {"你好", "您好", "在吗", "在不在", "有人吗", "谢谢", "好的", "好", "嗯", "ok", "hi", "hello", "喂", "哈喽"}
)
_PUNCTUATION = re.compile(r"[\s,，.。!！?？~～、…]+")
RECENT_TEXTS = 10  # customer messages looked at for the question that led to a handoff
MAX_QUESTION_CHARS = 120


def conversation_or_none(session: Session, sender_id: str) -> Conversation | None:
    return session.scalar(select(Conversation).where(Conversation.sender_id == sender_id))


def get_handoff(session: Session, handoff_id: int) -> Handoff:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise HandoffNotFound(f"转人工请求 {handoff_id} 不存在")
    return handoff


def end_handoff(session: Session, handoff_id: int, status: HandoffStatus, now: datetime) -> None:
    handoff = session.get_one(Handoff, handoff_id)
    handoff.status = status
    handoff.ended_at = now
    session.flush()


def account_name(session: Session, account_id: int) -> str:
    return session.scalar(select(Account.display_name).where(Account.id == account_id)) or ""


def grid_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Grid.code, Grid.name)).all())


def add_packet_note(handoff: Handoff, note: dict[str, object]) -> None:
    """Append a transfer or overflow note to the packet's ``notes`` (shown to the next agent)."""
    packet = dict(handoff.packet or {})
    notes = list(packet.get("notes") or [])  # type: ignore[call-overload]
    notes.append(note)
    packet["notes"] = notes
    handoff.packet = packet  # a new dict, so the JSON column sees the change


def customer_profile(conversation: Conversation, handoff: Handoff) -> dict[str, object]:
    """What the customer's client told us, completed by the packet's profile."""
    from_packet = (handoff.packet or {}).get("profile")
    return {**(from_packet if isinstance(from_packet, dict) else {}), **(conversation.profile or {})}


def queued_handoffs(grid_codes: Sequence[str] | None = None) -> Select[Handoff, Conversation]:
    """The handoffs waiting in a queue with their conversations, oldest first (of these grids; None = all)."""
    query = (
        select(Handoff, Conversation)
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(
            Handoff.status == HandoffStatus.QUEUED.value,
            Conversation.owner == Owner.QUEUED.value,
            Conversation.handoff_id == Handoff.id,
        )
        .order_by(Handoff.queued_at, Handoff.id)
    )
    if grid_codes is not None:
        query = query.where(Handoff.grid_code.in_(list(grid_codes)))
    return query


def recent_customer_texts(session: Session, conversation_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each conversation's last few customer texts, newest first, in one query."""
    if not conversation_ids:
        return {}
    ranked = (
        select(
            Message.conversation_id,
            Message.text,
            func.row_number().over(partition_by=Message.conversation_id, order_by=Message.seq.desc()).label("rank"),
        )
        .where(
            Message.conversation_id.in_(sorted(set(conversation_ids))),
            Message.author == Author.CUSTOMER.value,
            Message.text.is_not(None),
        )
        .subquery()
    )
    texts: dict[int, list[str]] = {}
    for conversation_id, text in session.execute(
        select(ranked.c.conversation_id, ranked.c.text)
        .where(ranked.c.rank <= RECENT_TEXTS)
        .order_by(ranked.c.conversation_id, ranked.c.rank)
    ):
        texts.setdefault(conversation_id, []).append(text)
    return texts


def is_question(text: str | None) -> bool:
    """A customer text that says what they need: not a button's payload, not 转人工 and the like, not
    a greeting or a thank-you."""
    text = (text or "").strip()
    bare = _PUNCTUATION.sub("", text).lower()
    return bool(bare) and not text.startswith("/") and not wants_human(text) and bare not in PLEASANTRIES


def handoff_question(handoff: Handoff, recent: Sequence[str]) -> str:
    """The question that led to the handoff, to tell waiting customers apart: the packet's summary
    (the action server's pick), else the customer's latest message that is a question ("" when none)."""
    summary = (handoff.packet or {}).get("summary")
    candidates = [summary] if isinstance(summary, str) else []
    text = next((t for t in [*candidates, *recent] if is_question(t)), "")
    text = " ".join(text.split())
    return text if len(text) <= MAX_QUESTION_CHARS else text[: MAX_QUESTION_CHARS - 1] + "…"
