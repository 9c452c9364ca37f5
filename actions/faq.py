"""``action_answer_faq``: answer from the knowledge base, suggest candidates, or fall back — and after
repeated misses hand over to a human."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff_packet import (
    CANDIDATES_SLOT,
    FAQ_CATEGORY_SLOT,
    MISSES_SLOT,
    candidates_of,
)
from actions.human import escalate, find_grid
from griddesk.db import session_scope
from grids.handoff_policy import HandoffPolicy
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


def misses(tracker: Tracker) -> int:
    """Consecutive FAQ misses so far (slot ``faq_misses``)."""
    try:
        return max(0, int(float(tracker.get_slot(MISSES_SLOT) or 0)))
    except (TypeError, ValueError):
        return 0


def reset_misses(tracker: Tracker) -> list[EventType]:
    return [SlotSet(MISSES_SLOT, 0)] if misses(tracker) else []


async def missed(dispatcher: CollectingDispatcher, tracker: Tracker, response: str) -> list[EventType]:
    """One more miss (fallback, or 都不是): say ``response``; at the routed grid's miss limit say
    that the bot still has no answer and escalate (reason ``repeated_misses``) instead."""
    count = misses(tracker) + 1
    grid = await find_grid(tracker)
    limit = grid.miss_limit if grid is not None else HandoffPolicy().miss_limit
    if count >= limit:
        dispatcher.utter_message(response="utter_faq_still_no_answer")
        return await escalate(dispatcher, tracker, "repeated_misses", grid=grid)
    dispatcher.utter_message(response=response)
    return [SlotSet(MISSES_SLOT, count)]


def search_events(result: SearchResult) -> list[EventType]:
    """What the search leaves for a handoff: the top candidates with scores, and the service
    category of the question when the search found something (it steers routing)."""
    category = result.top.faq.category if result.top is not None and result.decision is not Decision.FALLBACK else None
    return [SlotSet(CANDIDATES_SLOT, candidates_of(result.hits)), SlotSet(FAQ_CATEGORY_SLOT, category or None)]


class ActionAnswerFaq(Action):
    """Answers, suggests or falls back; counts consecutive misses (fallbacks and 都不是) and hands
    over to a human at the grid's limit (an answer or a chosen suggestion resets the count)."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        latest = tracker.latest_message or {}
        intent = (latest.get("intent") or {}).get("name")
        if intent == "none_of_these":
            return await missed(dispatcher, tracker, "utter_none_of_these")
        if intent == "choose_faq":
            entry = await asyncio.to_thread(chosen_faq, tracker)
            if entry is None:
                return await missed(dispatcher, tracker, "utter_faq_fallback")
            dispatcher.utter_message(response="utter_faq_answer", answer=entry.answer)
            return reset_misses(tracker)

        text = latest.get("text") or ""
        grid = tracker.slots.get("grid")
        try:
            result = await asyncio.to_thread(get_knowledge_base().search, text, SUGGESTIONS, grid)
        except QueryError:
            return await missed(dispatcher, tracker, "utter_faq_fallback")

        events = search_events(result)
        if result.decision is Decision.ANSWER and result.top is not None:
            dispatcher.utter_message(response="utter_faq_answer", answer=result.top.faq.answer)
            return events + reset_misses(tracker)
        await asyncio.to_thread(_log_miss, result, tracker.sender_id, grid)
        if result.decision is Decision.SUGGEST:
            dispatcher.utter_message(response="utter_faq_suggest", buttons=suggestion_buttons(result))
            return events
        tracker.add_slots(events)  # a handoff now routes and reports by this question, not the previous one
        return events + await missed(dispatcher, tracker, "utter_faq_fallback")
