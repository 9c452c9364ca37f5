"""What a Telegram update means for GridDesk: a pure reading of the Bot API ``Update`` object.

Only private chats are served. A group, supergroup or channel update is ignored (no reply: a support
bot added to a group must not chat with the whole group; the customer can write to it privately).
A chat without ``type`` (older payloads) counts as private when its id is positive, as Telegram's
user ids are and group ids are not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Message contents GridDesk cannot read; the customer gets a polite reply asking for text.
MEDIA_KINDS = (
    "sticker",
    "photo",
    "voice",
    "audio",
    "video",
    "video_note",
    "animation",
    "document",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
    "game",
    "story",
    "paid_media",
)
_START = re.compile(r"^/start(@\w+)?(\s.*)?$", re.DOTALL)
GREETING = "/greet"  # the bot's greet intent (bot/domain.yml), sent for /start


@dataclass(frozen=True)
class TextMessage:
    chat_id: int
    text: str
    name: str | None


@dataclass(frozen=True)
class ButtonPress:
    callback_id: str
    chat_id: int | None  # None: the button was on an inline-mode message, not in a chat with the bot
    data: str
    name: str | None
    message_id: int | None = None  # the message whose keyboard was pressed (None: inline mode)


@dataclass(frozen=True)
class Unsupported:
    chat_id: int
    kind: str  # sticker, photo, voice… or edited_message
    name: str | None


@dataclass(frozen=True)
class Ignored:
    reason: str


Event = TextMessage | ButtonPress | Unsupported | Ignored


def read_update(update: dict[str, Any]) -> Event:
    """The event an update carries; anything GridDesk does not serve is ``Ignored`` with a reason."""
    if isinstance(message := update.get("message"), dict):
        return _read_message(message)
    if isinstance(edited := update.get("edited_message"), dict):
        chat_id = _private_chat(edited)
        if chat_id is None:
            return Ignored("edited message outside a private chat")
        return Unsupported(chat_id, "edited_message", _name(edited.get("from")))
    if isinstance(query := update.get("callback_query"), dict):
        return _read_callback(query)
    kinds = [key for key in update if key != "update_id"]
    return Ignored(f"update kind {kinds[0] if kinds else 'none'} not served")


def _read_message(message: dict[str, Any]) -> Event:
    chat_id = _private_chat(message)
    if chat_id is None:
        return Ignored("message outside a private chat")
    name = _name(message.get("from"))
    text = message.get("text")
    if isinstance(text, str):
        if _START.match(text.strip()):
            return TextMessage(chat_id, GREETING, name)
        return TextMessage(chat_id, text, name)
    for kind in MEDIA_KINDS:
        if kind in message:
            return Unsupported(chat_id, kind, name)
    return Ignored("service message")


def _read_callback(query: dict[str, Any]) -> Event:
    callback_id, data = query.get("id"), query.get("data")
    if not isinstance(callback_id, str | int) or isinstance(callback_id, bool):
        return Ignored("callback query without an id")
    message = query.get("message")
    chat_id = _private_chat(message) if isinstance(message, dict) else None
    if isinstance(message, dict) and chat_id is None:
        return Ignored("callback query outside a private chat")
    message_id = message.get("message_id") if isinstance(message, dict) else None
    return ButtonPress(
        str(callback_id),
        chat_id,
        data if isinstance(data, str) else "",
        _name(query.get("from")),
        message_id if isinstance(message_id, int) and not isinstance(message_id, bool) else None,
    )


def _private_chat(message: dict[str, Any]) -> int | None:
    chat = message.get("chat")
    if not isinstance(chat, dict):
        return None
    chat_id, kind = chat.get("id"), chat.get("type")
    if not isinstance(chat_id, int) or isinstance(chat_id, bool):
        return None
    if kind == "private" or (kind is None and chat_id > 0):
        return chat_id
    return None


def _name(user: object) -> str | None:
    if not isinstance(user, dict):
        return None
    parts = [
        part.strip()
        for part in (user.get("first_name"), user.get("last_name"))
        if isinstance(part, str) and part.strip()
    ]
    return " ".join(parts) or None
