"""The action server's executor under Rasa 3.6's selective domain (actions/executor.py, bot/endpoints.yml):
a call that comes without the domain runs the action (rasa-sdk's own executor refuses it), a form
validator's call brings the domain and the validator reads it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionMissingDomainException

from actions.executor import SelectiveDomainExecutor
from actions.ticket_form import ActionDiscardTicketDraft, ValidateTicketForm
from tests.actions.trackers import DATA, domain, domain_sent_to


def call(action_name: str, snapshot_name: str, **extra: Any) -> dict[str, Any]:
    """An action call as Rasa 3.6 posts it (rasa.core.actions.action.RemoteAction._action_call_format)."""
    tracker = json.loads((DATA / f"{snapshot_name}.json").read_text(encoding="utf-8"))
    sender = tracker["sender_id"]
    return {"next_action": action_name, "sender_id": sender, "tracker": tracker, "version": "3.6.21"} | extra


def executor(kind: type[ActionExecutor] = SelectiveDomainExecutor) -> ActionExecutor:
    executor = kind()
    executor.register_action(ActionDiscardTicketDraft())
    executor.register_action(ValidateTicketForm())
    return executor


def test_rasa_sends_the_domain_only_to_the_form_validators():
    assert domain_sent_to("action_discard_ticket_draft") == {}
    assert domain_sent_to("action_answer_faq") == {}
    assert domain_sent_to("validate_ticket_form") == domain()


async def test_a_call_without_the_domain_runs_the_action():
    result = await executor().run(call("action_discard_ticket_draft", "ticket_form_answer"))
    assert result is not None
    assert [m["response"] for m in result.responses] == ["utter_ticket_discarded"]
    assert {"event": "slot", "name": "ticket_category", "value": None} in [
        {k: e[k] for k in ("event", "name", "value")} for e in result.events
    ]


async def test_rasa_sdks_own_executor_would_refuse_it():
    """rasa-sdk ≥ 3.10 expects a domain digest with every call and answers HTTP 449, which Rasa 3.6 cannot read."""
    with pytest.raises(ActionMissingDomainException):
        await executor(ActionExecutor).run(call("action_discard_ticket_draft", "ticket_form_answer"))


async def test_a_form_validator_gets_the_domain_rasa_sends():
    result = await executor().run(call("validate_ticket_form", "ticket_form_activation", domain=domain()))
    assert result is not None
    slots = {e["name"]: e["value"] for e in result.events if e["event"] == "slot"}
    assert slots == {"ticket_category": "complaint", "ticket_description": "宽带三天没修好"}
