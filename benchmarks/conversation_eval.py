"""Conversation routing quality: does the bot's first reply to a customer message do the right thing?

Usage (from the repository root, app env):
    .venv/app/bin/python benchmarks/conversation_eval.py [--limit N] [--json out.json] [--timeout S]
    .venv/app/bin/python benchmarks/conversation_eval.py --nlu-only [--limit N] [--json out.json]

Reads ``benchmarks/data/conversation_eval.jsonl`` (one utterance a line: ``text``, ``class``, ``expect``;
see benchmarks/README.md). Starts its own stack (Rasa, action server, gateway) on free loopback ports
with a scratch data directory (migrated and seeded with the demo knowledge base, human service open
around the clock), then sends every utterance once, as the first message of a new sender id, through
the gateway's REST channel — so the gateway's 转人工 keyword trigger, NLU, the rules and the actions
all take part, as for a customer. The reply is classified by :func:`classify` into an outcome
(an FAQ answered or suggested, the ticket form, a complaint, a handoff to a human, out of scope,
fallback, chit-chat …) and compared with the expectation. The intent Rasa gave the message and the
ticket category the form took are read from the conversation's tracker (Rasa runs with
``--enable-api``), for the confusion list.

``--nlu-only`` starts Rasa alone and reports the intent ``/model/parse`` gives each utterance in the
normal form the gateway sends (``griddesk.text.normalize_utterance``; no gateway trigger, no actions): the intent distribution per class, and how often the intent routes the
way the expectation needs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import yaml

from benchmarks.common import UNREACHED_LIMITS
from griddesk.text import normalize_utterance
from handoff import messages as gateway_messages

DATA = REPO / "benchmarks" / "data" / "conversation_eval.jsonl"
DOMAIN = REPO / "bot" / "domain.yml"

CLASSES = (
    "colloquial",
    "typo",
    "emotional",
    "traditional",
    "fault",
    "ticket_request",
    "complaint",
    "human_request",
    "mentions_human",
    "negation",
    "billing",
    "fraud",
    "chitchat",
    "out_of_scope",
)
EXPECTED_OUTCOMES = ("faq", "ticket_form", "complaint", "human", "out_of_scope", "chitchat")

# What a reply can turn out to be (classify); the expectations above are a subset.
FAQ, SUGGEST, TICKET_FORM, COMPLAINT, HUMAN = "faq", "faq_suggest", "ticket_form", "complaint", "human"
OUT_OF_SCOPE, FALLBACK, CHITCHAT, TICKET_LOOKUP = "out_of_scope", "fallback", "chitchat", "ticket_lookup"
BOT_UNAVAILABLE, UNKNOWN, ERROR = "bot_unavailable", "unknown", "error"

# Outcomes that satisfy an expectation besides the outcome of the same name. Out of scope: declining
# with the generic fallback is as good as the out-of-scope line; chit-chat: a greeting or thanks back.
ACCEPTED = {
    "out_of_scope": {OUT_OF_SCOPE, FALLBACK},
    "chitchat": {CHITCHAT, "greet", "thank", "goodbye"},
    "human": {HUMAN},
    "complaint": {COMPLAINT},
}
# Intents whose rule routes the way an expectation needs (bot/data/rules.yml): ask_faq, the
# low-confidence nlu_fallback and, outside a form, inform, cancel, deny and change_ticket_field all go to
# action_answer_faq (which answers cancel and deny from the knowledge base unless they only decline).
ROUTING_INTENTS = {
    "faq": {"ask_faq", "nlu_fallback", "inform", "cancel", "deny", "change_ticket_field"},
    "ticket_form": {"create_ticket"},
    "complaint": {"complain"},
    "human": {"request_human"},
    "out_of_scope": {"out_of_scope", "nlu_fallback"},
    "chitchat": {"chitchat", "greet", "thank", "goodbye"},
}

HUMAN_RESPONSES = (
    "utter_human_transferring",
    "utter_human_closed",
    "utter_human_closed_no_opening",
    "utter_human_closed_ticket_opened",
    "utter_human_unavailable",
)
FORM_RESPONSES = (
    "utter_ask_ticket_category",
    "utter_ask_ticket_description",
    "utter_ask_ticket_amount",
    "utter_ask_ticket_phone",
    "utter_ask_ticket_name",
    "utter_ask_ticket_region",
    "utter_ticket_summary",
    "utter_ticket_summary_with_amount",
)
LOOKUP_RESPONSES = (
    "utter_ask_ticket_number",
    "utter_ask_ticket_last4",
    "utter_ticket_status",
    "utter_ticket_status_no_deadline",
    "utter_my_tickets",
    "utter_ticket_lookup_denied",
    "utter_ticket_lookup_failed",
)
FALLBACK_RESPONSES = ("utter_faq_fallback", "utter_none_of_these", "utter_faq_still_no_answer")
PLAIN_RESPONSES = {
    "utter_out_of_scope": OUT_OF_SCOPE,
    "utter_chitchat": CHITCHAT,
    "utter_greet": "greet",
    "utter_thank": "thank",
    "utter_goodbye": "goodbye",
    "utter_ask_how_can_help": "ask_how_can_help",
    "utter_ticket_discarded": "ticket_discarded",
}
_PAYLOAD = re.compile(r"^/(\w+)(\{.*\})?$", re.DOTALL)


# --- the data ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    text: str
    cls: str
    expect: dict[str, Any]

    @property
    def outcome(self) -> str:
        return str(self.expect["outcome"])

    def expected_label(self) -> str:
        if self.outcome == "faq":
            return f"faq:{self.expect['faq']}"
        if self.outcome == "ticket_form":
            return f"ticket_form:{self.expect.get('category') or '(any)'}"
        return self.outcome


def load_cases(path: Path = DATA) -> list[Case]:
    cases = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("class") not in CLASSES or (row.get("expect") or {}).get("outcome") not in EXPECTED_OUTCOMES:
                raise ValueError(f"{path}:{number}: unknown class or outcome: {line.strip()}")
            cases.append(Case(row["text"], row["class"], row["expect"]))
    return cases


class FaqCatalog:
    """FAQ database ids (what button payloads name) ↔ external ids and questions (what the data names)."""

    def __init__(self, rows: Iterable[tuple[int | str, str, str]]) -> None:
        self.external: dict[str, str] = {}
        self.by_question: dict[str, str] = {}
        for faq_id, external_id, question in rows:
            self.external[str(faq_id)] = external_id
            self.by_question[question] = external_id

    def resolve(self, name: str) -> str:
        """An expectation's FAQ (external id or exact question) as its external id."""
        return self.by_question.get(name, name)

    def name_of(self, faq_id: str | None) -> str:
        return self.external.get(str(faq_id), f"#{faq_id}") if faq_id is not None else "?"


def faq_catalog_from_database(database_url: str) -> FaqCatalog:
    from sqlalchemy import select

    from griddesk.db import make_engine
    from knowledge_base.models import Faq

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(Faq.id, Faq.external_id, Faq.question)).all()
    finally:
        engine.dispose()
    return FaqCatalog((row[0], row[1], row[2]) for row in rows)


# --- classifying a reply -----------------------------------------------------------------------


class ResponseMatcher:
    """Which domain responses (bot/domain.yml) a reply's text is an instance of. Templates become
    patterns: ``正在为您转接{grid_name}的人工客服`` matches whatever grid name was filled in."""

    def __init__(self, responses: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        self.patterns: list[tuple[str, re.Pattern[str]]] = []
        for name, variants in responses.items():
            for variant in variants:
                text = variant.get("text")
                parts = re.split(r"\{\w+\}", text.strip()) if isinstance(text, str) else []
                if "".join(parts):  # a template that is only a placeholder ({answer}) says nothing
                    self.patterns.append((name, re.compile(".+?".join(map(re.escape, parts)), re.DOTALL)))

    @classmethod
    def from_domain(cls, path: Path = DOMAIN) -> ResponseMatcher:
        return cls(yaml.safe_load(path.read_text(encoding="utf-8")).get("responses") or {})

    def names(self, text: str) -> set[str]:
        text = text.strip()
        return {name for name, pattern in self.patterns if pattern.fullmatch(text)}


@dataclass
class Got:
    """What the bot did with the message."""

    outcome: str
    faq_id: str | None = None  # the FAQ answered
    suggested: tuple[str, ...] = ()  # the FAQs offered as suggestion buttons
    category: str | None = None  # the ticket form's category (None: the form asks for it)
    responses: tuple[str, ...] = ()  # the domain responses recognised in the reply

    def label(self, catalog: FaqCatalog | None = None) -> str:
        name = catalog.name_of if catalog is not None else (lambda faq_id: f"#{faq_id}")
        if self.outcome == FAQ:
            return f"faq:{name(self.faq_id)}"
        if self.outcome == SUGGEST:
            return "suggest:[" + ",".join(name(i) for i in self.suggested) + "]"
        if self.outcome == TICKET_FORM:
            return f"ticket_form:{self.category or '(asks)'}"
        return self.outcome


def _payloads(replies: Sequence[Mapping[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for reply in replies:
        for button in reply.get("buttons") or []:
            match = _PAYLOAD.match(str(button.get("payload") or ""))
            if match:
                try:
                    entities = json.loads(match.group(2)) if match.group(2) else {}
                except json.JSONDecodeError:
                    entities = {}
                found.append((match.group(1), entities if isinstance(entities, dict) else {}))
    return found


def classify(
    replies: Sequence[Mapping[str, Any]], matcher: ResponseMatcher, slots: Mapping[str, Any] | None = None
) -> Got:
    """The outcome of the bot's replies to one customer message (in Rasa's REST shape, as the gateway
    sends them). Stable markers first — the gateway's queue buttons, the FAQ answer's 有帮助/没帮助
    payloads (``/faq_feedback``), the suggestions' ``/choose_faq`` payloads — then the domain responses
    the texts are instances of. ``slots`` (the tracker's, when known) tell the ticket form's category."""
    slots = slots or {}
    names: set[str] = set()
    for reply in replies:
        if isinstance(reply.get("text"), str):
            names |= matcher.names(reply["text"])
    responses = tuple(sorted(names))
    payloads = _payloads(replies)
    intents = [intent for intent, _ in payloads]

    if gateway_messages.KEEP_WAITING.lstrip("/") in intents or names & set(HUMAN_RESPONSES):
        return Got(HUMAN, responses=responses)
    form = bool(names & set(FORM_RESPONSES))
    category = slots.get("ticket_category") if form else None
    if "utter_complaint_received" in names or category == "complaint":
        return Got(COMPLAINT, category="complaint", responses=responses)
    if form:
        return Got(TICKET_FORM, category=category or None, responses=responses)
    if names & set(LOOKUP_RESPONSES):
        return Got(TICKET_LOOKUP, responses=responses)
    answered = [entities.get("faq_id") for intent, entities in payloads if intent == "faq_feedback"]
    if answered:
        return Got(FAQ, faq_id=str(answered[0]), responses=responses)
    suggested = tuple(str(entities.get("faq_id")) for intent, entities in payloads if intent == "choose_faq")
    if suggested:
        return Got(SUGGEST, suggested=suggested, responses=responses)
    for name, outcome in PLAIN_RESPONSES.items():
        if name in names:
            return Got(outcome, responses=responses)
    if names & set(FALLBACK_RESPONSES):
        return Got(FALLBACK, responses=responses)
    if any(reply.get("text") == gateway_messages.BOT_UNAVAILABLE for reply in replies):
        return Got(BOT_UNAVAILABLE, responses=responses)
    return Got(UNKNOWN, responses=responses)


def is_correct(case: Case, got: Got, catalog: FaqCatalog) -> bool:
    """Whether the reply does what the case expects. An FAQ is right when it is the answer or among
    the suggestion buttons; a ticket form is right when its category is the expected one or not yet
    known (the form's first question is then the category)."""
    if case.outcome == "faq":
        want = catalog.resolve(str(case.expect["faq"]))
        if got.outcome == FAQ:
            return catalog.name_of(got.faq_id) == want
        return got.outcome == SUGGEST and want in {catalog.name_of(i) for i in got.suggested}
    if case.outcome == "ticket_form":
        category = case.expect.get("category")
        return got.outcome == TICKET_FORM and (not category or got.category in (None, category))
    return got.outcome in ACCEPTED.get(case.outcome, {case.outcome})


# --- running against the stack -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_json(method: str, url: str, body: object | None = None, timeout: float = 30) -> Any:
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def stack_env(data_dir: str, rasa_timeout: float) -> dict[str, str]:
    """The stack's settings: its own data directory, free loopback ports, and the gateway's wait for
    Rasa raised (routing is measured here, not latency: a busy machine must not turn answers into
    the 'bot unavailable' notice; benchmarks/message_latency.py measures the latency)."""
    env = {
        **os.environ,
        "GRIDDESK_DATA_DIR": data_dir,
        "GRIDDESK_GATEWAY_HOST": "127.0.0.1",
        "GRIDDESK_RASA_TIMEOUT": str(rasa_timeout),
        "GRIDDESK_GATEWAY_PORT": str(free_port()),
        "GRIDDESK_RASA_PORT": str(free_port()),
        "GRIDDESK_ACTION_PORT": str(free_port()),
        **UNREACHED_LIMITS,
    }
    for name in ("GRIDDESK_DATABASE_URL", "GRIDDESK_RASA_URL", "GRIDDESK_ACTION_SERVER_URL"):
        env.pop(name, None)
    return env


def always_open(database_url: str) -> None:
    """Human service around the clock (as tests/integration/conftest.py does), so a handoff never
    depends on the hour the benchmark runs at."""
    from sqlalchemy import update

    from griddesk.db import make_engine
    from grids.models import Grid

    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(update(Grid).values(business_hours={}))
    engine.dispose()


def ensure_model(env: dict[str, str]) -> None:
    from griddesk.settings import load_settings
    from ops.train_model import current_model_path

    if not current_model_path(load_settings(env)).exists():
        subprocess.run([sys.executable, "-m", "ops.train_model"], check=True, env=env, cwd=REPO)


def latest_user_turn(tracker: Mapping[str, Any]) -> dict[str, Any]:
    """The customer's message as Rasa understood it, and the actions that followed it. Read from the
    events: ``action_default_fallback`` reverts the message, and ``latest_message`` is then empty."""
    events = list(tracker.get("events") or [])
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=None)
    if last_user is None:
        return {"text": None, "intent": None, "confidence": None, "actions": []}
    message = events[last_user]
    intent = (message.get("parse_data") or {}).get("intent") or {}
    actions = [
        e.get("name")
        for e in events[last_user + 1 :]
        if e.get("event") == "action" and e.get("name") != "action_listen"
    ]
    return {
        "text": message.get("text"),
        "intent": intent.get("name"),
        "confidence": round(float(intent.get("confidence") or 0.0), 3),
        "actions": actions,
    }


@dataclass
class Result:
    text: str
    cls: str
    expected: str
    got: str
    correct: bool
    intent: str | None = None
    confidence: float | None = None
    via_keyword: bool = False  # the gateway's 转人工 trigger sent /request_human instead of the text
    detail: dict[str, Any] = field(default_factory=dict)


def run_conversations(
    cases: Sequence[Case],
    gateway_url: str,
    rasa_url: str,
    rasa_token: str,
    catalog: FaqCatalog,
    timeout: float,
    progress: bool = True,
) -> list[Result]:
    matcher = ResponseMatcher.from_domain()
    webhook = f"{gateway_url}/webhooks/rest/webhook"
    # warm-up (encoder and index load on the first question); not counted
    for _ in range(3):
        try:
            reply = http_json(
                "POST", webhook, {"sender": f"eval-warmup-{uuid.uuid4().hex}", "message": "怎么开发票"}, timeout
            )
            if not any(r.get("text") == gateway_messages.BOT_UNAVAILABLE for r in reply):
                break
        except (urllib.error.URLError, TimeoutError):
            time.sleep(2)
    results = []
    for number, case in enumerate(cases, 1):
        sender = f"eval-{uuid.uuid4().hex}"
        try:
            replies = http_json("POST", webhook, {"sender": sender, "message": case.text}, timeout)
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            results.append(
                Result(case.text, case.cls, case.expected_label(), ERROR, False, detail={"error": repr(exc)})
            )
            continue
        try:
            tracker = http_json("GET", f"{rasa_url}/conversations/{sender}/tracker?token={rasa_token}", None, timeout)
        except (urllib.error.URLError, TimeoutError, ValueError):
            tracker = {}
        slots = tracker.get("slots") or {}
        got = classify(replies, matcher, slots)
        turn = latest_user_turn(tracker)
        results.append(
            Result(
                case.text,
                case.cls,
                case.expected_label(),
                got.label(catalog),
                is_correct(case, got, catalog),
                intent=turn["intent"],
                confidence=turn["confidence"],
                via_keyword=turn["text"] == "/request_human" and case.text != "/request_human",
                detail={
                    "outcome": got.outcome,
                    "responses": list(got.responses),
                    "actions": turn["actions"],
                    "texts": [r.get("text", "")[:80] for r in replies if r.get("text")],
                },
            )
        )
        if progress and number % 25 == 0:
            print(f"    {number}/{len(cases)}", flush=True)
    return results


def run_nlu(cases: Sequence[Case], rasa_url: str, rasa_token: str, timeout: float) -> list[Result]:
    results = []
    for case in cases:
        try:
            # as the gateway sends it: the normal form the NLU is trained on (Traditional never reaches Rasa)
            parsed = http_json(
                "POST", f"{rasa_url}/model/parse?token={rasa_token}", {"text": normalize_utterance(case.text)}, timeout
            )
            intent = parsed.get("intent") or {}
            name, confidence = intent.get("name"), round(float(intent.get("confidence") or 0.0), 3)
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            results.append(Result(case.text, case.cls, case.outcome, ERROR, False, detail={"error": repr(exc)}))
            continue
        ok = name in ROUTING_INTENTS[case.outcome]
        results.append(Result(case.text, case.cls, case.outcome, str(name), ok, intent=name, confidence=confidence))
    return results


# --- the report --------------------------------------------------------------------------------


def summarise(cases: Sequence[Case], results: Sequence[Result]) -> dict[str, Any]:
    per_class: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for result in results:
        per_class[result.cls][0] += result.correct
        per_class[result.cls][1] += 1
    by_text = {case.text: case for case in cases}
    ticket_requests = [r for r in results if by_text[r.text].outcome == "ticket_form" or r.cls == "ticket_request"]
    human_requests = [r for r in results if by_text[r.text].outcome == "human"]
    faq_cases = [r for r in results if by_text[r.text].outcome == "faq"]
    correct = sum(r.correct for r in results)
    return {
        "overall": {"correct": correct, "total": len(results), "accuracy": correct / len(results) if results else 0.0},
        "per_class": {
            cls: {
                "correct": per_class[cls][0],
                "total": per_class[cls][1],
                "accuracy": per_class[cls][0] / per_class[cls][1],
            }
            for cls in CLASSES
            if cls in per_class
        },
        "ticket_requests": {
            "total": len(ticket_requests),
            "missed": sum(r.got.split(":")[0] not in (TICKET_FORM, COMPLAINT) for r in ticket_requests),
        },
        "human_requests": {"total": len(human_requests), "missed": sum(not r.correct for r in human_requests)},
        "false_handoffs": sum(r.got == HUMAN and by_text[r.text].outcome != "human" for r in results),
        # FAQ expectations met by the answer itself, or only by a suggestion button
        "faq_right": {
            "answered": sum(r.correct and r.got.startswith("faq:") for r in faq_cases),
            "suggested": sum(r.correct and r.got.startswith("suggest:") for r in faq_cases),
            "total": len(faq_cases),
        },
        "got": dict(Counter(r.got.split(":")[0] for r in results).most_common()),
    }


def print_report(summary: Mapping[str, Any], results: Sequence[Result], nlu_only: bool) -> None:
    title = "intent routes as expected (NLU only)" if nlu_only else "first reply does the expected thing"
    print(f"\n{'class':<16}{'right':>7}{'of':>5}{'acc':>8}   {title}")
    for cls, row in summary["per_class"].items():
        print(f"{cls:<16}{row['correct']:>7}{row['total']:>5}{row['accuracy']:>8.1%}")
    overall = summary["overall"]
    print(f"{'overall':<16}{overall['correct']:>7}{overall['total']:>5}{overall['accuracy']:>8.1%}")
    if nlu_only:
        print("\nintent distribution per class:")
        for cls, intents in summary["intents"].items():
            print(f"  {cls:<16}" + ", ".join(f"{name} {count}" for name, count in intents.items()))
    else:
        tickets, humans = summary["ticket_requests"], summary["human_requests"]
        print(f"\nticket requests missed (no ticket form opened): {tickets['missed']} of {tickets['total']}")
        print(f"转人工 requests missed (no handoff): {humans['missed']} of {humans['total']}")
        print(f"handoffs nobody asked for: {summary['false_handoffs']}")
        faq = summary["faq_right"]
        print(
            f"FAQ expected: {faq['answered'] + faq['suggested']} of {faq['total']} right "
            f"({faq['answered']} answered, {faq['suggested']} only among the suggestions)"
        )
        unavailable = summary["got"].get(BOT_UNAVAILABLE, 0) + summary["got"].get(ERROR, 0)
        if unavailable:
            print(
                f"{unavailable} replies were the gateway's bot-unavailable notice (Rasa answered nothing, "
                "e.g. after action_default_fallback, or timed out) or failed"
            )
        print("outcomes: " + ", ".join(f"{name} {count}" for name, count in summary["got"].items()))
    wrong = [r for r in results if not r.correct]
    print(f"\nwrong ({len(wrong)}):  text | expected | got | intent (confidence)")
    for r in wrong:
        via = " via 转人工 keyword" if r.via_keyword else ""
        if r.got == BOT_UNAVAILABLE and r.detail.get("actions"):
            via += " → " + ", ".join(r.detail["actions"])
        print(f"  [{r.cls}] {r.text} | {r.expected} | {r.got} | {r.intent} ({r.confidence}){via}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=0, help="only the first N utterances")
    parser.add_argument("--json", type=Path, help="write the results and summary to this file")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request (default 60)")
    parser.add_argument(
        "--rasa-timeout",
        type=float,
        default=30.0,
        help="the gateway's wait for Rasa, GRIDDESK_RASA_TIMEOUT (default 30; the product's is 10)",
    )
    parser.add_argument("--nlu-only", action="store_true", help="only Rasa's /model/parse: intent distribution")
    args = parser.parse_args(argv)

    from griddesk.settings import load_settings
    from ops.stack import Stack

    cases = load_cases(args.data)
    if args.limit:
        cases = cases[: args.limit]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="conversation-eval-") as tmp:
        env = stack_env(tmp, args.rasa_timeout)
        ensure_model(env)
        settings = load_settings(env)
        stack = Stack(settings)
        rasa_token = stack.settings.rasa_token.reveal()  # Rasa's HTTP API needs it (generated per run)
        if args.nlu_only:
            stack.services = [stack.service("rasa")]
        else:
            subprocess.run([sys.executable, "-m", "ops.setup_db"], check=True, env=env, cwd=REPO, capture_output=True)
            always_open(settings.database_url)
        print(f"==> starting the stack in {tmp}", flush=True)
        stack.start()
        try:
            if args.nlu_only:
                results = run_nlu(cases, settings.rasa_url, rasa_token, args.timeout)
            else:
                catalog = faq_catalog_from_database(settings.database_url)
                results = run_conversations(
                    cases, settings.gateway_url, settings.rasa_url, rasa_token, catalog, args.timeout
                )
        finally:
            stack.stop()
    summary = summarise(cases, results)
    if args.nlu_only:
        intents: dict[str, Counter[str]] = defaultdict(Counter)
        for r in results:
            intents[r.cls][str(r.intent)] += 1
        summary["intents"] = {cls: dict(intents[cls].most_common()) for cls in CLASSES if cls in intents}
    summary["seconds"] = round(time.perf_counter() - started, 1)
    print_report(summary, results, args.nlu_only)
    print(f"\n{len(results)} utterances in {summary['seconds']} s")
    if args.json:
        args.json.write_text(
            json.dumps({"summary": summary, "results": [asdict(r) for r in results]}, ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
