"""``GET /api/v1/console/labels``: every Chinese label the consoles show, from the features that define them.

The pages read labels from here instead of keeping copies in JavaScript, so a label is written once.
Any logged-in member of staff may read them.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from accounts.labels import ROLE_LABELS
from accounts.web import require_login
from conversations.labels import AUTHOR_LABELS, CHANNEL_LABELS, OWNER_LABELS
from griddesk.web.json import json_response
from grids.labels import AGENT_STATUS_LABELS, SKILL_LABELS, TIER_LABELS
from handoff.labels import ACTOR_LABELS, ALERT_KIND_LABELS, INTENT_LABELS, REASON_LABELS, STATUS_LABELS
from knowledge_base.labels import (
    DECISION_LABELS,
    EVENT_SOURCE_LABELS,
    FAQ_STATUS_LABELS,
    INBOX_KIND_LABELS,
    REVIEW_LABELS,
)
from knowledge_base.labels import FIELD_LABELS as FAQ_FIELD_LABELS
from tickets.labels import CATEGORY_LABELS, EVENT_KIND_LABELS, FIELD_LABELS, PRIORITY_LABELS, STATE_LABELS


def _plain(labels: dict[Any, str]) -> dict[str, str]:
    return {str(key): value for key, value in labels.items()}


LABELS: dict[str, dict[str, str]] = {
    "role": _plain(ROLE_LABELS),
    "agent_status": _plain(AGENT_STATUS_LABELS),
    "skill": _plain(SKILL_LABELS),
    "intent": _plain(INTENT_LABELS),
    "actor": _plain(ACTOR_LABELS),
    "tier": _plain(TIER_LABELS),
    "author": _plain(AUTHOR_LABELS),
    "channel": _plain(CHANNEL_LABELS),
    "conversation_owner": _plain(OWNER_LABELS),
    "handoff_reason": _plain(REASON_LABELS),
    "handoff_status": _plain(STATUS_LABELS),
    "alert_kind": _plain(ALERT_KIND_LABELS),
    "ticket_category": _plain(CATEGORY_LABELS),
    "ticket_state": _plain(STATE_LABELS),
    "ticket_priority": _plain(PRIORITY_LABELS),
    "ticket_field": _plain(FIELD_LABELS),
    "ticket_event": _plain(EVENT_KIND_LABELS),
    "faq_status": _plain(FAQ_STATUS_LABELS),
    "faq_review": _plain(REVIEW_LABELS),
    "kb_decision": _plain(DECISION_LABELS),
    "inbox_kind": _plain(INBOX_KIND_LABELS),
    "faq_source": _plain(EVENT_SOURCE_LABELS),
    "faq_field": _plain(FAQ_FIELD_LABELS),
}


async def get_labels(request: web.Request) -> web.Response:
    await require_login(request)
    return json_response(LABELS, headers={"Cache-Control": "private, max-age=300"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/console/labels", get_labels)
