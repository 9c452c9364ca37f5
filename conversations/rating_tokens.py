"""The text form of a customer's rating, ``/griddesk_rate{"score": n, "token": "…"}``: reading it and taking
its one-time token out (no database here).

``handoff.rating`` issues and checks the token; the close notice's rating buttons carry it to the customer.
Staff must never see it: ``conversations.transcript.for_staff`` (every console view of a message) strips it
with ``redact_rating_tokens``, and the gateway records the customer's rating message ``without_rating_token``.
"""

from __future__ import annotations

import json
import re
from typing import Any

RATE_COMMAND = "/griddesk_rate"
_RATE_PAYLOAD = re.compile(r"^/griddesk_rate(\{.*\})$", re.DOTALL)


def rating_fields(text: str) -> dict[str, Any] | None:
    """The JSON object of a ``/griddesk_rate{…}`` text; None when the text is not one (or not JSON)."""
    match = _RATE_PAYLOAD.match(text)
    if not match:
        return None
    try:
        fields = json.loads(match.group(1))
    except json.JSONDecodeError:
        return None
    return fields if isinstance(fields, dict) else None


def rating_token_of(text: str) -> str | None:
    token = (rating_fields(text) or {}).get("token")
    return token if isinstance(token, str) else None


def without_rating_token(text: str) -> str:
    """A ``/griddesk_rate{…}`` text without its token (any other text as it is)."""
    fields = rating_fields(text)
    if fields is None or "token" not in fields:
        return text
    return RATE_COMMAND + json.dumps({k: v for k, v in fields.items() if k != "token"}, ensure_ascii=False)


def redact_rating_tokens(message: dict[str, Any]) -> dict[str, Any]:
    """A transcript entry (``message_dict``) as staff see it: texts and button payloads without rating tokens."""
    redacted = dict(message)
    if isinstance(message.get("text"), str):
        redacted["text"] = without_rating_token(message["text"])
    payload = message.get("payload")
    if isinstance(payload, dict):
        payload = dict(payload)
        if isinstance(payload.get("text"), str):
            payload["text"] = without_rating_token(payload["text"])
        if isinstance(payload.get("buttons"), list):
            payload["buttons"] = [
                {**b, "payload": without_rating_token(b["payload"])}
                if isinstance(b, dict) and isinstance(b.get("payload"), str)
                else b
                for b in payload["buttons"]
            ]
        redacted["payload"] = payload
    return redacted
