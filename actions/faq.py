"""``action_answer_faq``: answer from the knowledge base, suggest candidates, or fall back."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from griddesk.db import session_scope
from knowledge_base.index import Decision, FaqEntry, SearchResult
from knowledge_base.misses import log_miss
from knowledge_base.search import QueryError, get_knowledge_base

log = logging.getLogger(__name__)
SUGGESTIONS = 3


def suggestion_buttons(result: SearchResult) -> list[dict[str, str]]:
    """One button per candidate (payload picks that FAQ), then 「都不是」."""
    buttons = [
        {"title": hit.faq.question, "payload": "/choose_faq" + json.dumps({"faq_id": str(hit.faq.id)})}
        for hit in result.hits[:SUGGESTIONS]
    ]
    buttons.append({"title": "都不是", "payload": "/none_of_these"})
    return buttons


def chosen_faq(tracker: Tracker) -> FaqEntry | None:
    """The FAQ a suggestion button named, if it is still published."""
    raw = next(tracker.get_latest_entity_values("faq_id"), None)
    try:
        faq_id = int(str(raw))
    except ValueError:
        return None
    index = get_knowledge_base().index()
    return next((entry for entry in index.entries if entry.id == faq_id), None)


def _log_miss(result: SearchResult, sender_id: str, grid: str | None) -> None:
    with session_scope() as session:
        log_miss(session, result, sender_id=sender_id, grid=grid)


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        latest = tracker.latest_message or {}
        if (latest.get("intent") or {}).get("name") == "choose_faq":
            entry = await asyncio.to_thread(chosen_faq, tracker)
            if entry is None:
                dispatcher.utter_message(response="utter_faq_fallback")
            else:
                dispatcher.utter_message(response="utter_faq_answer", answer=entry.answer)
            return []

        text = latest.get("text") or ""
        grid = tracker.slots.get("grid")
        try:
            result = await asyncio.to_thread(get_knowledge_base().search, text, SUGGESTIONS, grid)
        except QueryError:
            dispatcher.utter_message(response="utter_faq_fallback")
            return []

        if result.decision is Decision.ANSWER and result.top is not None:
            dispatcher.utter_message(response="utter_faq_answer", answer=result.top.faq.answer)
            return []
        await asyncio.to_thread(_log_miss, result, tracker.sender_id, grid)
        if result.decision is Decision.SUGGEST:
            dispatcher.utter_message(response="utter_faq_suggest", buttons=suggestion_buttons(result))
        else:
            dispatcher.utter_message(response="utter_faq_fallback")
        return []
