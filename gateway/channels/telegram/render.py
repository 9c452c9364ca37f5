"""A transcript message as Telegram messages: text split to the platform's limit, buttons as an inline keyboard.

A button's ``callback_data`` is ``"<seq>:<index>"``: the transcript message it was shown under and
its place among that message's payload buttons (``gateway.channels.buttons.buttons_of``). Telegram
allows only 64 bytes of callback data, and a payload such as ``/choose_faq{"faq_id": "…"}`` can be
longer; the transcript keeps the payload, so a press on an old keyboard still means what it showed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_TEXT = 4096  # Telegram's limit for one message, in UTF-16 code units
KEYBOARD_ONLY_TEXT = "👇"  # Telegram needs some text above a keyboard
_CALLBACK = re.compile(r"^(\d{1,9}):(\d{1,3})$")
_BREAKS = ("\n", "。", "！", "？", "；", ". ", "! ", "? ", " ", "，", ",")


@dataclass(frozen=True)
class Outgoing:
    method: str  # sendMessage or sendPhoto
    text: str | None = None
    reply_markup: dict[str, Any] | None = None
    photo: str | None = None


def payload_buttons(payload: object) -> list[dict[str, Any]]:
    """The buttons a customer can press (with a string payload), in the order ``buttons_of`` counts them."""
    buttons = payload.get("buttons") if isinstance(payload, dict) else None
    if not isinstance(buttons, list):
        return []
    return [b for b in buttons if isinstance(b, dict) and isinstance(b.get("payload"), str)]


def callback_data(seq: int, index: int) -> str:
    return f"{seq}:{index}"


def parse_callback_data(data: str) -> tuple[int, int] | None:
    """``(seq, index)`` from a button's callback data, or None if it is not ours."""
    match = _CALLBACK.match(data)
    return (int(match.group(1)), int(match.group(2))) if match else None


def keyboard(seq: int, payload: object) -> dict[str, Any] | None:
    """The inline keyboard for a message's buttons, one per row (Chinese titles are long)."""
    rows: list[list[dict[str, str]]] = []
    for index, button in enumerate(payload_buttons(payload)):
        rows.append([{"text": _title(button), "callback_data": callback_data(seq, index)}])
    buttons = payload.get("buttons") if isinstance(payload, dict) else None
    for button in buttons if isinstance(buttons, list) else []:
        url = button.get("url") if isinstance(button, dict) else None
        if isinstance(url, str) and url.startswith(("https://", "http://")):
            rows.append([{"text": _title(button), "url": url}])
    return {"inline_keyboard": rows} if rows else None


def _title(button: dict[str, Any]) -> str:
    title = button.get("title")
    return (
        title.strip() if isinstance(title, str) and title.strip() else str(button.get("payload") or button.get("url"))
    )


def render(message: dict[str, Any]) -> list[Outgoing]:
    """What to send for one transcript entry (``message_dict``); empty when nothing is for the customer to see."""
    payload = message.get("payload")
    text = payload.get("text") if isinstance(payload, dict) else None
    if not isinstance(text, str):
        text = message.get("text") if isinstance(message.get("text"), str) else None
    markup = keyboard(int(message["seq"]), payload)
    out: list[Outgoing] = []
    image = payload.get("image") if isinstance(payload, dict) else None
    if isinstance(image, str) and image.startswith(("https://", "http://")):
        out.append(Outgoing("sendPhoto", photo=image))
    if text and text.strip():
        chunks = split_text(text)
        out.extend(Outgoing("sendMessage", text=chunk) for chunk in chunks[:-1])
        out.append(Outgoing("sendMessage", text=chunks[-1], reply_markup=markup))
    elif markup is not None:
        out.append(Outgoing("sendMessage", text=KEYBOARD_ONLY_TEXT, reply_markup=markup))
    return out


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """``text`` in pieces of at most ``limit`` UTF-16 units, cut at a line, sentence or word end when one is near."""
    chunks: list[str] = []
    while _units(text) > limit:
        cut, used = 0, 0
        for char in text:
            size = 2 if ord(char) > 0xFFFF else 1
            if used + size > limit:
                break
            used += size
            cut += 1
        for mark in _BREAKS:
            at = text.rfind(mark, 0, cut)
            if at >= cut // 2:
                cut = min(at + len(mark), cut)
                break
        chunk, text = text[:cut].rstrip(), text[cut:].lstrip("\n")
        if chunk:
            chunks.append(chunk)
    if text.strip() or not chunks:
        chunks.append(text)
    return chunks
