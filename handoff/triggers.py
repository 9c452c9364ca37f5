"""Words that always mean "a person, please" (DESIGN.md: 转人工/人工客服/找人工… always offer a human).

The gateway checks them before the bot sees the message, so no NLU miss can keep a customer from a
person; the bot then gets ``/request_human`` and builds the handoff packet as for the intent.
"""

from __future__ import annotations

import re

from griddesk.text import to_simplified

MAX_CHARS = 40  # a long message that mentions 人工 in passing is a question, not a request
_HUMAN = re.compile(
    r"(转|找|接|要|叫|请|换)(个)?人工|人工(客服|服务|坐席|台)|真人(客服)?|客服人员|活人|^人工$",
)


def wants_human(text: str) -> bool:
    """True when a short message asks for a human (Traditional characters too)."""
    text = text.strip()
    return 0 < len(text) <= MAX_CHARS and _HUMAN.search(to_simplified(text)) is not None
