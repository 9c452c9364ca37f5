"""A transcript message as WeCom text messages: buttons as a numbered list, split at 2048 bytes."""

from __future__ import annotations

from typing import Any

from gateway.channels.buttons import numbered

MAX_TEXT_BYTES = 2048  # WeCom's limit for a text message's content


def render(message: dict[str, Any]) -> str:
    """The text a WeCom user reads for a transcript entry ("" when there is nothing to show)."""
    raw_payload = message.get("payload")
    payload: dict[str, Any] = raw_payload if isinstance(raw_payload, dict) else {}
    text = message.get("text") if isinstance(message.get("text"), str) else payload.get("text")
    parts = [text.strip()] if isinstance(text, str) and text.strip() else []
    image = payload.get("image")
    if isinstance(image, str) and image.strip():
        parts.append(image.strip())
    buttons = payload.get("buttons")
    buttons = (
        [b for b in buttons if isinstance(b, dict) and isinstance(b.get("payload"), str)]
        if isinstance(buttons, list)
        else []
    )
    return numbered("\n".join(parts), buttons).strip()


def split_text(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """Pieces of at most ``limit`` UTF-8 bytes, cut at line ends where possible, never inside a character."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        if len((current + line).encode("utf-8")) <= limit:
            current += line
            continue
        if current:
            pieces.append(current)
            current = ""
        while len(line.encode("utf-8")) > limit:
            head = _prefix_within(line, limit)
            pieces.append(head)
            line = line[len(head) :]
        current = line
    if current:
        pieces.append(current)
    return [piece.strip("\n") for piece in pieces if piece.strip()]


def _prefix_within(text: str, limit: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 encoding fits in ``limit`` bytes."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore") or text[0]
