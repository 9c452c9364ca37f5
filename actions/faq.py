"""``action_answer_faq``: answer from the knowledge base, suggest candidates, or fall back — and after
repeated misses hand over to a human. Every answer carries the 「有帮助 / 没帮助」 buttons
(``action_faq_feedback``, actions/feedback.py), and every answer, suggestion and choice is counted in
the FAQ's usage (knowledge_base/usage.py)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.handoff_packet import (
    CANDIDATES_SLOT,
    FAQ_CATEGORY_SLOT,
    MISSES_SLOT,
    candidates_of,
)
from actions.human import escalate, find_grid
from actions.texts import feedback_buttons
from griddesk.db import run_in_session
from grids.handoff_policy import HandoffPolicy
from knowledge_base.index import Decision, FaqEntry, Hit, SearchResult
from knowledge_base.misses import log_miss
from knowledge_base.models import UsageKind
from knowledge_base.search import QueryError, get_knowledge_base
from knowledge_base.usage import record_usage

log = logging.getLogger(__name__)
SUGGESTIONS = 3
# the customer's question behind the latest answer or suggestions (没帮助 logs it and searches it again)
QUESTION_SLOT = "faq_question"
# the FAQ the bot answered last, as text: the one its 「有帮助 / 没帮助」 buttons may rate
ANSWERED_SLOT = "faq_answered"
# FAQ ids the customer marked 没帮助 for that question (never offered again for it)
REJECTED_SLOT = "faq_rejected"


def suggestion_buttons(hits: SearchResult | list[Hit]) -> list[dict[str, str]]:
    """One button per candidate (payload picks that FAQ), then 「都不是」."""
    shown = hits.hits if isinstance(hits, SearchResult) else hits
    buttons = [
        {"title": hit.faq.question, "payload": "/choose_faq" + json.dumps({"faq_id": str(hit.faq.id)})}
        for hit in shown[:SUGGESTIONS]
    ]
    buttons.append({"title": "都不是", "payload": "/none_of_these"})
    return buttons


def _record_usage(session: Session, faq_ids: list[int], kind: UsageKind) -> None:
    for faq_id in faq_ids:
        record_usage(session, faq_id, kind)


async def count_usage(faq_ids: list[int], kind: UsageKind) -> None:
    """Count ``kind`` for each FAQ; a failure is logged and never stops the reply."""
    if not faq_ids:
        return
    try:
        await run_in_session(lambda session: _record_usage(session, faq_ids, kind))
    except Exception:  # usage counters are bookkeeping: the customer still gets the answer
        log.exception("recording usage %s of FAQs %s failed", kind, faq_ids)


async def answer(dispatcher: CollectingDispatcher, entry: FaqEntry, kind: UsageKind) -> list[EventType]:
    """Say the FAQ's answer with the 「有帮助 / 没帮助」 buttons, count it as ``kind`` (answered or
    chosen) and remember which FAQ the buttons rate."""
    dispatcher.utter_message(response="utter_faq_answer", answer=entry.answer, buttons=feedback_buttons(entry.id))
    await count_usage([entry.id], kind)
    return [SlotSet(ANSWERED_SLOT, str(entry.id))]


def chosen_faq(tracker: Tracker) -> FaqEntry | None:
    """The FAQ a suggestion button named, if it is still published."""
    raw = next(tracker.get_latest_entity_values("faq_id"), None)
    try:
        faq_id = int(str(raw))
    except ValueError:
        return None
    index = get_knowledge_base().index()
    return next((entry for entry in index.entries if entry.id == faq_id), None)


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


def question_events(tracker: Tracker, text: str) -> list[EventType]:
    """A new question: remember it for 没帮助; the FAQs rejected for the previous one may fit this one."""
    events: list[EventType] = [SlotSet(QUESTION_SLOT, text)]
    if tracker.get_slot(REJECTED_SLOT):
        events.append(SlotSet(REJECTED_SLOT, None))
    if tracker.get_slot(ANSWERED_SLOT):
        events.append(SlotSet(ANSWERED_SLOT, None))
    return events


class ActionAnswerFaq(Action):
    """Answers, suggests or falls back; counts consecutive misses (fallbacks and 都不是) and hands
    over to a human at the grid's limit (an answer or a chosen suggestion resets the count)."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        latest = tracker.latest_message or {}
        intent = (latest.get("intent") or {}).get("name")
        if intent == "none_of_these":
            return await missed(dispatcher, tracker, "utter_none_of_these")
        if intent == "choose_faq":
            entry = await asyncio.to_thread(chosen_faq, tracker)
            if entry is None:
                return await missed(dispatcher, tracker, "utter_faq_fallback")
            return await answer(dispatcher, entry, UsageKind.CHOSEN) + reset_misses(tracker)

        text = latest.get("text") or ""
        grid = tracker.slots.get("grid")
        try:
            result = await asyncio.to_thread(get_knowledge_base().search, text, SUGGESTIONS, grid)
        except QueryError:
            return await missed(dispatcher, tracker, "utter_faq_fallback")

        events = search_events(result) + question_events(tracker, text)
        if result.decision is Decision.ANSWER and result.top is not None:
            return events + await answer(dispatcher, result.top.faq, UsageKind.ANSWERED) + reset_misses(tracker)
        await run_in_session(lambda session: log_miss(session, result, sender_id=tracker.sender_id, grid=grid))
        if result.decision is Decision.SUGGEST:
            dispatcher.utter_message(response="utter_faq_suggest", buttons=suggestion_buttons(result))
            await count_usage([hit.faq.id for hit in result.hits[:SUGGESTIONS]], UsageKind.SUGGESTED)
            return events
        tracker.add_slots(events)  # a handoff now routes and reports by this question, not the previous one
        return events + await missed(dispatcher, tracker, "utter_faq_fallback")
