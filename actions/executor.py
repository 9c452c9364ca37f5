"""The action executor for Rasa 3.6 with ``enable_selective_domain`` (bot/endpoints.yml).

Rasa 3.6 sends the domain (~22 KB here, more than half of every request) only to the actions marked
``send_domain: true`` in bot/domain.yml — the form validators, which read the form's slots from it — and
nothing else about it to the rest. rasa-sdk ≥ 3.10 (the app env's) expects the newer protocol instead: a
``domain_digest`` with every call, and answers a call without domain or known digest with HTTP 449 "send the
domain", which Rasa 3.6 does not understand (the action would fail). This executor keeps rasa-sdk 3.6's
reading: a call without a domain and without a digest is an action that does not need the domain, and gets
an empty one. Calls with a domain or a digest go through rasa-sdk's own handling unchanged.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import ActionExecutor


class SelectiveDomainExecutor(ActionExecutor):
    def update_and_return_domain(self, payload: dict[str, Any], action_name: str) -> dict[str, Any] | None:
        if "domain" not in payload and "domain_digest" not in payload:
            return {}
        return super().update_and_return_domain(payload, action_name)
