"""Conversations and their transcripts: the gateway's record of every message (no HTTP here)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from conversations.models import Author, Conversation, Message, MessageStatus
from conversations.rating_tokens import redact_rating_tokens


def get_or_create_conversation(session: Session, sender_id: str, channel: str = "rest") -> Conversation:
    """The conversation of ``sender_id``, created on the first message (safe under concurrency)."""
    conversation = session.scalar(select(Conversation).where(Conversation.sender_id == sender_id))
    if conversation is not None:
        return conversation
    try:
        with session.begin_nested():
            conversation = Conversation(sender_id=sender_id, channel=channel)
            session.add(conversation)
    except IntegrityError:  # another request created it first
        conversation = session.scalars(select(Conversation).where(Conversation.sender_id == sender_id)).one()
    return conversation


def append_messages(
    session: Session,
    conversation_id: int,
    entries: Sequence[tuple[Author, str | None, dict[str, object] | None, MessageStatus]],
) -> list[Message]:
    """Append messages with consecutive sequence numbers, atomically within the caller's transaction."""
    if not entries:
        return []
    last = session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(last_seq=Conversation.last_seq + len(entries))
        .returning(Conversation.last_seq)
    ).scalar_one()
    first = last - len(entries) + 1
    messages = [
        Message(
            conversation_id=conversation_id, seq=first + i, author=author, text=text, payload=payload, status=status
        )
        for i, (author, text, payload, status) in enumerate(entries)
    ]
    session.add_all(messages)
    session.flush()
    return messages


# A customer's button press is stored as the button's title (what the customer read and chose), with the
# payload that was sent under this key of the message's payload: every channel, history and console shows
# 「有帮助」, never ``/faq_feedback{…}``.
BUTTON_KEY = "button"
# how many of the conversation's latest messages are searched for the button a payload came from
BUTTON_SEARCH_DEPTH = 20


def offered_buttons(payload: object) -> list[dict[str, object]]:
    """The buttons of a stored reply (Rasa's ``buttons``, or a ``custom`` message's)."""
    if not isinstance(payload, dict):
        return []
    found = payload.get("buttons")
    custom = payload.get("custom")
    if not isinstance(found, list) and isinstance(custom, dict):
        found = custom.get("buttons")
    return [b for b in found if isinstance(b, dict)] if isinstance(found, list) else []


def button_title(session: Session, conversation_id: int, payload: str) -> str | None:
    """The title of the button that sends ``payload``, from the latest message of the conversation that
    offered it (None: no recent message offered it — the customer typed it, or it is too old)."""
    recent = session.scalars(
        select(Message.payload)
        .where(Message.conversation_id == conversation_id, Message.author != Author.CUSTOMER)
        .order_by(Message.seq.desc())
        .limit(BUTTON_SEARCH_DEPTH)
    )
    for stored in recent:
        for button in offered_buttons(stored):
            title = button.get("title")
            if button.get("payload") == payload and isinstance(title, str) and title.strip():
                return title.strip()
    return None


def pressed_button(message: Message) -> str | None:
    """The payload a customer's message sent, when it was a button press (its text is then the title)."""
    payload = message.payload
    value = payload.get(BUTTON_KEY) if isinstance(payload, dict) else None
    return value if isinstance(value, str) else None


def typed_by_customer(message: Message) -> bool:
    """A customer's own words: neither a button press nor a payload typed by hand (``/…``)."""
    return (
        message.author == Author.CUSTOMER
        and bool(message.text)
        and pressed_button(message) is None
        and not str(message.text).startswith("/")
    )


def set_status(session: Session, message_id: int, status: MessageStatus) -> None:
    session.execute(update(Message).where(Message.id == message_id).values(status=status))


def transcript(session: Session, sender_id: str, after_seq: int = 0, limit: int = 200) -> list[Message]:
    """Messages of ``sender_id``'s conversation with ``seq`` greater than ``after_seq``."""
    return list(
        session.scalars(
            select(Message)
            .join(Conversation)
            .where(Conversation.sender_id == sender_id, Message.seq > after_seq)
            .order_by(Message.seq)
            .limit(limit)
        )
    )


def message_dict(message: Message) -> dict[str, object]:
    """A transcript entry as the customer's clients see it (history, live events); staff see
    ``for_staff`` of it."""
    return {
        "seq": message.seq,
        "author": str(message.author),
        "text": message.text,
        "payload": message.payload,
        "created_at": message.created_at.isoformat(),
    }


# Keys of a stored reply that name the customer: Rasa's ``recipient_id`` is the sender id, the
# customer's only credential. Staff never see them (they name a conversation by its numeric id).
CUSTOMER_KEYS = frozenset({"recipient_id"})


def for_staff(entry: dict[str, object]) -> dict[str, object]:
    """A ``message_dict`` as every console gets it: its payload without the keys that name the customer, and
    its text and buttons without the one-time rating token (``conversations.rating_tokens``): staff who read
    the transcript must not be able to rate their own service."""
    payload = entry.get("payload")
    if isinstance(payload, dict) and not CUSTOMER_KEYS.isdisjoint(payload):
        entry = {**entry, "payload": {key: value for key, value in payload.items() if key not in CUSTOMER_KEYS}}
    return redact_rating_tokens(entry)
