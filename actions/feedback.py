"""``action_faq_feedback``: the customer's 「有帮助 / 没帮助」 on an FAQ answer (docs/kb-curation.md
"Feedback in chat").

有帮助 → thanks, usage ``helpful``. 没帮助 → usage ``unhelpful``, the question goes to the curation
inbox, and the bot offers the next candidates for the same question (never one already rejected);
with none left, or at the second 没帮助 for the question, a human takes over (``repeated_misses``).
When the question describes a fault, 没帮助 also offers the ticket form (「还是不行，帮我报修」), and
where a human would take over the customer chooses: 报修 or 转人工.
The buttons may only rate the FAQ the bot answered last (slot ``faq_answered``, cleared once rated):
a stale, repeated or forged payload is refused politely and counts nothing.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.faq import (
    ANSWERED_SLOT,
    QUESTION_SLOT,
    REJECTED_SLOT,
    SUGGESTIONS,
    count_usage,
    fault_of,
    misses,
    suggestion_buttons,
)
from actions.handoff_packet import CANDIDATES_SLOT, MISSES_SLOT, candidates_of
from actions.human import escalate
from actions.texts import report_fault_button
from griddesk.db import session_scope
from griddesk.text import normalize_utterance
from knowledge_base.inbox import log_unhelpful
from knowledge_base.index import Hit
from knowledge_base.models import UsageKind
from knowledge_base.search import MAX_K, QueryError, get_knowledge_base

log = logging.getLogger(__name__)
# 没帮助 for this many FAQs of one question → a human
UNHELPFUL_LIMIT = 2


@dataclass(frozen=True)
class Feedback:
    faq_id: int
    helpful: bool


def read_feedback(tracker: Tracker) -> Feedback | None:
    """The rating in the latest message, if it rates the FAQ answered last (a rating without an id,
    ``/faq_feedback{"helpful": "no"}``, rates that one); None for anything else."""
    answered = tracker.get_slot(ANSWERED_SLOT)
    helpful = next(tracker.get_latest_entity_values("helpful"), None)
    raw_id = next(tracker.get_latest_entity_values("faq_id"), None)
    if raw_id is None:
        raw_id = answered
    if helpful not in ("yes", "no") or answered is None:
        return None
    try:
        faq_id = int(str(raw_id))
    except ValueError:
        return None
    if str(faq_id) != str(answered):
        return None
    return Feedback(faq_id, helpful == "yes")


def rejected_ids(tracker: Tracker) -> list[int]:
    """The FAQs marked 没帮助 for the current question (slot ``faq_rejected``)."""
    raw = tracker.get_slot(REJECTED_SLOT)
    ids: list[int] = []
    for value in raw if isinstance(raw, list) else []:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            continue
    return ids


def next_candidates(question: str, grid: str | None, rejected: list[int]) -> list[Hit]:
    """Blocking (search): the question's candidates still in the suggest band, rejected ones left out."""
    kb = get_knowledge_base()
    result = kb.search(normalize_utterance(question), min(MAX_K, SUGGESTIONS + len(rejected)), grid)
    hits = [hit for hit in result.hits if hit.faq.id not in rejected and hit.score >= kb.thresholds.suggest]
    return hits[:SUGGESTIONS]


def _unhelpful(question: str, faq_id: int, sender_id: str, grid: str | None) -> None:
    with session_scope() as session:
        log_unhelpful(session, question, faq_id, sender_id, grid)


async def send_to_inbox(question: str, faq_id: int, sender_id: str, grid: str | None) -> None:
    """The question goes to the curation inbox; a failure is logged, the conversation goes on."""
    if not question:
        return
    try:
        await asyncio.to_thread(_unhelpful, question, faq_id, sender_id, grid)
    except Exception:  # the inbox is bookkeeping: the customer still gets the next candidates
        log.exception("logging the unhelpful answer %s for %s failed", faq_id, sender_id)


class ActionFaqFeedback(Action):
    """有帮助 / 没帮助 under an FAQ answer."""

    def name(self) -> str:
        return "action_faq_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        feedback = read_feedback(tracker)
        if feedback is None:
            dispatcher.utter_message(response="utter_faq_feedback_invalid")
            return []
        done: list[EventType] = [SlotSet(ANSWERED_SLOT, None)]  # one rating per answer
        if feedback.helpful:
            await count_usage([feedback.faq_id], UsageKind.HELPFUL)
            dispatcher.utter_message(response="utter_faq_feedback_thanks")
            return done
        return done + await self.unhelpful(dispatcher, tracker, feedback.faq_id)

    async def unhelpful(self, dispatcher: CollectingDispatcher, tracker: Tracker, faq_id: int) -> list[EventType]:
        """Count it, send the question to the inbox, offer the next candidates — or a human."""
        question = str(tracker.get_slot(QUESTION_SLOT) or "")
        grid = tracker.slots.get("grid")
        await count_usage([faq_id], UsageKind.UNHELPFUL)
        await send_to_inbox(question, faq_id, tracker.sender_id, grid)
        rejected = [*rejected_ids(tracker), faq_id]
        fault = fault_of(tracker)
        hits: list[Hit] = []
        if question and len(rejected) < UNHELPFUL_LIMIT:
            try:
                hits = await asyncio.to_thread(next_candidates, question, grid, rejected)
            except QueryError:
                log.warning("searching again for %r failed", question)
        if not hits and fault:
            # a fault the answers did not fix: the customer chooses a ticket (报修) or a person
            dispatcher.utter_message(response="utter_faq_unhelpful_fault")
            return [SlotSet(REJECTED_SLOT, None)]
        if len(rejected) >= UNHELPFUL_LIMIT:
            dispatcher.utter_message(response="utter_faq_still_no_answer")
            return [SlotSet(REJECTED_SLOT, None)] + await escalate(dispatcher, tracker, "repeated_misses")
        if not hits:
            dispatcher.utter_message(response="utter_faq_unhelpful_no_more")
            return [SlotSet(REJECTED_SLOT, None)] + await escalate(dispatcher, tracker, "repeated_misses")
        buttons = suggestion_buttons(hits)
        if fault:
            buttons.insert(-1, report_fault_button())
        dispatcher.utter_message(response="utter_faq_suggest_more", buttons=buttons)
        await count_usage([hit.faq.id for hit in hits], UsageKind.SUGGESTED)
        # an unhelpful answer is a miss: 都不是 on these next candidates counts towards the grid's limit
        return [
            SlotSet(REJECTED_SLOT, rejected),
            SlotSet(CANDIDATES_SLOT, candidates_of(hits)),
            SlotSet(MISSES_SLOT, misses(tracker) + 1),
        ]
