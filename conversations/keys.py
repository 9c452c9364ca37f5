"""The conversation key: a secret the gateway issues to the web page that began a conversation (our chat
page and widget), which that page must then present on every call (no HTTP here).

A random sender id alone is a bearer credential anyone who learns it can use; the key binds the conversation
to the page that holds it. Only a SHA-256 hash is kept (``conversation.client_key_hash``). A conversation
without a key (begun by another Rasa REST client, or before keys existed) stays open to its sender id alone,
as in Rasa's REST channel; it gets a key when our page first asks for one, and from then on calls without
the key are refused. The functions flush; the caller commits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from conversations.models import Conversation
from conversations.transcript import get_or_create_conversation
from griddesk.db import rows_changed
from griddesk.errors import DomainError

KEY_BYTES = 32  # 256 random bits, 43 URL-safe base64 characters
MAX_KEY_CHARS = 128


class ConversationKeyRequired(DomainError):
    code = "conversation_key_required"

    def __init__(self) -> None:
        super().__init__("此会话已与发起它的聊天页面绑定，请回到该页面继续（缺少会话密钥）。")


class ConversationKeyInvalid(DomainError):
    code = "conversation_key_invalid"

    def __init__(self) -> None:
        super().__init__("会话密钥与此会话不符，请刷新页面开始新的会话。")


def new_key() -> tuple[str, str]:
    """A fresh key for the client and the hash to keep of it."""
    key = secrets.token_urlsafe(KEY_BYTES)
    return key, key_hash(key)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def check_key(session: Session, sender_id: str, presented: str | None) -> None:
    """Whether a call may use ``sender_id``'s conversation: without a key (``None``) only if it has none;
    with a key only if it is the conversation's. Raises ConversationKeyRequired / ConversationKeyInvalid."""
    row = session.execute(select(Conversation.client_key_hash).where(Conversation.sender_id == sender_id)).first()
    stored = row[0] if row is not None else None
    if presented is None:
        if stored is not None:
            raise ConversationKeyRequired
        return
    if stored is None or not 0 < len(presented) <= MAX_KEY_CHARS:
        raise ConversationKeyInvalid
    if not hmac.compare_digest(key_hash(presented), stored):
        raise ConversationKeyInvalid


def bind_key(session: Session, sender_id: str, hashed: str, channel: str) -> None:
    """Bind ``sender_id``'s conversation (created when missing) to a new key, if it has none yet and belongs to
    ``channel``. A conversation that already has a key is never rebound (ConversationKeyRequired)."""
    conversation = get_or_create_conversation(session, sender_id, channel)
    if conversation.channel != channel:
        raise ConversationKeyInvalid
    bound = session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id, Conversation.client_key_hash.is_(None))
        .values(client_key_hash=hashed)
    )
    if rows_changed(bound) != 1:
        raise ConversationKeyRequired
    session.expire(conversation, ["client_key_hash"])
