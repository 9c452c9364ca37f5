"""What the customer wrote, as the actions read it.

The gateway sends Rasa each typed message in the normal form the NLU was trained on
(``griddesk.text.normalize_utterance``: Simplified, half-width, 啊啊啊 and ！！！ folded) and what was
typed in ``metadata.typed``. Searching reads the normal form (the message's ``text``); what people
read later — a ticket's description, the curation inbox — keeps what was typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def typed_text(message: Mapping[str, Any] | None) -> str:
    """A customer message (``tracker.latest_message``) as typed: ``metadata.typed`` when the gateway
    sent one, else the text itself."""
    message = message or {}
    metadata = message.get("metadata")
    typed = metadata.get("typed") if isinstance(metadata, Mapping) else None
    return typed if isinstance(typed, str) and typed.strip() else str(message.get("text") or "")
