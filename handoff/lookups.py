"""Small reads and writes the handoff services (queue, assignment, sweep) share; no HTTP here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from accounts.models import Account
from conversations.models import Conversation, Owner
from grids.models import Grid
from handoff.models import Handoff, HandoffStatus
from handoff.ownership import HandoffNotFound


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
