"""Tracker snapshots (tests/actions/data/*.json, as Rasa sent them to the action server) and
helpers to run an action on one."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

DATA = Path(__file__).parent / "data"
DOMAIN_FILE = Path(__file__).resolve().parents[2] / "bot" / "domain.yml"


@cache
def _load(name: str) -> dict[str, Any]:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


@cache
def domain() -> dict[str, Any]:
    return yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))


def snapshot(
    name: str,
    text: str | None = None,
    intent: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    sender_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    **slots: Any,
) -> Tracker:
    """The snapshot ``name``, with the customer's latest message (and its metadata) and some slots replaced."""
    state = copy.deepcopy(_load(name))
    latest = state["latest_message"]
    if text is not None:
        latest["text"] = text
    if intent is not None:
        latest["intent"] = {"name": intent, "confidence": 0.95}
    if entities is not None:
        latest["entities"] = entities
    if metadata is not None:
        latest["metadata"] = metadata
    user = next(e for e in reversed(state["events"]) if e["event"] == "user")
    user["text"] = latest["text"]
    if metadata is not None:
        user["metadata"] = metadata
    user["parse_data"] = copy.deepcopy(latest)
    if metadata is not None:
        user["metadata"] = latest["metadata"] = metadata
    state["slots"].update(slots)
    if sender_id is not None:
        state["sender_id"] = sender_id
    return Tracker.from_dict(state)


def domain_sent_to(action_name: str) -> dict[str, Any]:
    """The domain Rasa 3.6 sends with a call of ``action_name`` under ``enable_selective_domain``
    (bot/endpoints.yml): all of it to the form validators (``validate_*``) and to the actions listed with
    ``send_domain: true`` in bot/domain.yml, none to the others (actions/executor.py gives them ``{}``)."""
    listed = {
        name
        for action in domain()["actions"]
        if isinstance(action, dict)
        for name, config in action.items()
        if (config or {}).get("send_domain")
    }
    return domain() if action_name.startswith("validate_") or action_name in listed else {}


async def run(action: Action, tracker: Tracker) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
    """Runs ``action`` with the domain Rasa would send it (:func:`domain_sent_to`)."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain_sent_to(action.name()))
    return events, dispatcher


def slot_values(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The slots the events set, the last value winning (as in Rasa)."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages]


def conversation(
    *turns: tuple[str, str],
    slots: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    sender_id: str = "customer-9",
    active_loop: str | None = None,
    confidence: float = 0.97,
) -> Tracker:
    """A tracker after the customer's ``(text, intent)`` turns; ``metadata`` rides on every message (as the
    gateway sends ``metadata.griddesk_customer`` with each one: see :func:`verified`)."""
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_session_start"},
        {"event": "session_started"},
        {"event": "action", "name": "action_listen"},
    ]
    latest: dict[str, Any] = {}
    for text, intent in turns:
        latest = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": []}
        event: dict[str, Any] = {"event": "user", "text": text, "parse_data": copy.deepcopy(latest)}
        if metadata is not None:
            event["metadata"] = metadata
            event["parse_data"]["metadata"] = metadata
        events += [event, {"event": "action", "name": "action_listen"}]
    events.pop()  # the latest message is being handled
    return Tracker.from_dict(
        {
            "sender_id": sender_id,
            "slots": dict(slots or {}),
            "latest_message": latest,
            "events": events,
            "paused": False,
            "followup_action": None,
            "latest_action_name": "action_listen",
            "active_loop": {"name": active_loop} if active_loop else {},
        }
    )


def verified(external_id: str = "u-1001", customer_id: int = 1, **attributes: str) -> dict[str, Any]:
    """The metadata the gateway sends with a verified customer's message (customers/identity.py)."""
    return {"griddesk_customer": {"id": customer_id, "external_id": external_id, **attributes}}


def handoff_packets(dispatcher: CollectingDispatcher) -> list[dict[str, Any]]:
    """The packets of the custom ``{"griddesk": {"handoff": …}}`` messages the action sent."""
    return [
        m["custom"]["griddesk"]["handoff"]
        for m in dispatcher.messages
        if isinstance(m.get("custom"), dict) and "griddesk" in m["custom"]
    ]
