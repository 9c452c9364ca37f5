"""``action_answer_faq``: answer from the knowledge base, suggest candidates, or fall back — and after
repeated misses hand over to a human. Every answer carries the 「有帮助 / 没帮助」 buttons
(``action_faq_feedback``, actions/feedback.py), and every answer, suggestion and choice is counted in
the FAQ's usage (knowledge_base/usage.py).

A described problem gets the answer, not the ticket form: when the question sounds like a fault
(宽带断了, 网速慢, 光猫红灯 — or the FAQ found is a 故障报修 one) the reply also offers
「还是不行，帮我报修」, which opens the form with the question as its description. The form itself
opens on an explicit request (create_ticket: 我要报修, 帮我登记) or from that button.

Outside a form this action also takes what NLU reads as declining (cancel, deny) and field changes
(change_ticket_field): 不想再自动扣费了 and 发票抬头写错了还能改吗 are questions. A message that only
declines (算了, 不用了, 不是) gets 「好的，请问还有什么可以帮您？」, and a declining message the search
finds nothing for gets the same instead of a fallback (it is no miss)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.customer_text import typed_text
from actions.handoff_packet import (
    CANDIDATES_SLOT,
    FAQ_CATEGORY_SLOT,
    MISSES_SLOT,
    candidates_of,
    service_category,
)
from actions.human import customer_grid, escalate, find_grid
from actions.texts import feedback_buttons, report_fault_button
from actions.ticket_extract import find_category
from griddesk.db import run_in_session
from griddesk.text import normalize_utterance
from grids.handoff_policy import HandoffPolicy
from handoff.agent_answer import is_question
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
# NLU reads these as declining something; outside a form they may still be questions (不想再自动扣费了)
DECLINING_INTENTS = frozenset({"cancel", "deny"})
# What a message that only declines is made of (算了 · 不用了，谢谢 · 不是这个 · 算了，我自己再看看)
_DECLINING_WORDS = re.compile(
    r"算了|不用|不需要|不要|不必|取消|不弄|不办|不填写?|不提交|不查|不麻烦|不继续|不想要|不想弄|不想填写?|不想"
    r"继续|退出|停|别弄|不了|没事|不是|不对|不行|不可以|不太对|没有|错了|否|no|别"
)
_FILLERS = re.compile(
    r"[\s!?.,;:~。、…]|了|吧|啊|呀|哈|哦|嗯|呢|的|我|你|您|先|还是|暂时|就|那|好|谢谢|麻烦|这个|再|自己|看看|这样"
)
FAULT = "fault"
# the customer's grid (routed from the verified region and tier alone; the catch-all grid for an anonymous
# customer): its published overrides of global FAQs answer this customer
GRID_SLOT = "grid"


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


async def answer(
    dispatcher: CollectingDispatcher, entry: FaqEntry, kind: UsageKind, fault: bool = False
) -> list[EventType]:
    """Say the FAQ's answer with the 「有帮助 / 没帮助」 buttons (and 「还是不行，帮我报修」 when the
    question describes a fault), count it as ``kind`` (answered or chosen) and remember which FAQ the
    buttons rate."""
    buttons = feedback_buttons(entry.id) + ([report_fault_button()] if fault else [])
    dispatcher.utter_message(response="utter_faq_answer", answer=entry.answer, buttons=buttons)
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


def only_declines(text: str) -> bool:
    """算了 / 不用了，谢谢 / 不是这个: nothing but declining (and courtesy) — no question in it."""
    value = _FILLERS.sub("", _DECLINING_WORDS.sub("", normalize_utterance(text).lower()))
    return len(value) < 2


def sounds_like_fault(text: str, faq_category: object = None) -> bool:
    """Whether a question describes a fault (宽带断了, 网速慢, 光猫红灯: tickets.fields' fault words),
    or the FAQ found for it is a 故障报修 one: its reply then offers 「还是不行，帮我报修」."""
    return find_category(text) == FAULT or service_category(faq_category) == FAULT


def fault_of(tracker: Tracker) -> bool:
    """Whether the question behind the latest answer or suggestions (slots ``faq_question`` and
    ``faq_category``) describes a fault."""
    return sounds_like_fault(str(tracker.get_slot(QUESTION_SLOT) or ""), tracker.get_slot(FAQ_CATEGORY_SLOT))


async def missed(
    dispatcher: CollectingDispatcher, tracker: Tracker, response: str, fault: bool = False
) -> list[EventType]:
    """One more miss (fallback, or 都不是): say ``response`` (with 「还是不行，帮我报修」 for a fault);
    at the routed grid's miss limit say that the bot still has no answer and escalate (reason
    ``repeated_misses``) instead."""
    count = misses(tracker) + 1
    grid = await find_grid(tracker)
    limit = grid.miss_limit if grid is not None else HandoffPolicy().miss_limit
    if count >= limit:
        dispatcher.utter_message(response="utter_faq_still_no_answer")
        return await escalate(dispatcher, tracker, "repeated_misses", grid=grid)
    dispatcher.utter_message(response=response, buttons=[report_fault_button()] if fault else [])
    return [SlotSet(MISSES_SLOT, count)]


def grid_events(tracker: Tracker, grid: str | None) -> list[EventType]:
    """Remember the customer's grid (slot ``grid``: 没帮助 searches again in the same scope)."""
    return [SlotSet(GRID_SLOT, grid)] if tracker.get_slot(GRID_SLOT) != grid else []


def search_events(result: SearchResult) -> list[EventType]:
    """What the search leaves for a handoff: the top candidates with scores, and the service
    category of the question when the search found something (it steers routing)."""
    category = result.top.faq.category if result.top is not None and result.decision is not Decision.FALLBACK else None
    return [SlotSet(CANDIDATES_SLOT, candidates_of(result.hits)), SlotSet(FAQ_CATEGORY_SLOT, category or None)]


def question_events(tracker: Tracker, text: str) -> list[EventType]:
    """A new question (as typed): remember it for 没帮助 and for a 报修 form's description; the FAQs
    rejected for the previous one may fit this one."""
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
        return await answer_question(dispatcher, tracker)


async def answer_question(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """What ``action_answer_faq`` does with the latest message (also used by ``action_check_ticket`` for a
    message read as check_ticket that names no ticket)."""
    latest = tracker.latest_message or {}
    intent = (latest.get("intent") or {}).get("name")
    if intent == "none_of_these":
        return await missed(dispatcher, tracker, "utter_none_of_these", fault=fault_of(tracker))
    if intent == "choose_faq":
        entry = await asyncio.to_thread(chosen_faq, tracker)
        if entry is None:
            return await missed(dispatcher, tracker, "utter_faq_fallback")
        fault = fault_of(tracker) or sounds_like_fault("", entry.category)
        return await answer(dispatcher, entry, UsageKind.CHOSEN, fault) + reset_misses(tracker)

    text = latest.get("text") or ""
    declining = intent in DECLINING_INTENTS
    if declining and only_declines(text):
        dispatcher.utter_message(response="utter_ask_how_can_help")
        return []
    grid = await customer_grid(tracker)
    scope = grid_events(tracker, grid)
    try:
        result = await asyncio.to_thread(get_knowledge_base().search, text, SUGGESTIONS, grid)
    except QueryError:
        return scope + await missed(dispatcher, tracker, "utter_faq_fallback")

    events = scope + search_events(result) + question_events(tracker, typed_text(latest))
    top_category = result.top.faq.category if result.top is not None else None
    if result.decision is Decision.ANSWER and result.top is not None:
        fault = sounds_like_fault(text, top_category)
        return events + await answer(dispatcher, result.top.faq, UsageKind.ANSWERED, fault) + reset_misses(tracker)
    if is_question(text):  # 转人工, 你好 or a phone number is no gap in the knowledge base: not for the inbox
        await run_in_session(lambda session: log_miss(session, result, sender_id=tracker.sender_id, grid=grid))
    if result.decision is Decision.SUGGEST:
        buttons = suggestion_buttons(result)
        if sounds_like_fault(text, top_category):
            buttons.insert(-1, report_fault_button())
        dispatcher.utter_message(response="utter_faq_suggest", buttons=buttons)
        await count_usage([hit.faq.id for hit in result.hits[:SUGGESTIONS]], UsageKind.SUGGESTED)
        return events
    if declining:  # 不想再麻烦了 and nothing found: it was declining after all, not a question missed
        dispatcher.utter_message(response="utter_ask_how_can_help")
        return events
    tracker.add_slots(events)  # a handoff now routes and reports by this question, not the previous one
    return events + await missed(dispatcher, tracker, "utter_faq_fallback", fault=sounds_like_fault(text))
