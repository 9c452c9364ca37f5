"""How people and the system are named in audit trails (ownership events, ticket events, FAQ history).

A person on the staff is ``account:<id>``; the integration API token is ``integration:<name>``
(``GRIDDESK_API_TOKEN_NAME``); the rest are fixed names (``customer``, ``bot``, ``system``, ``import``).
Defined once here, read back with :func:`account_id_of`. Nobody names themselves: the edge derives the
actor from the login session or the token, never from a request body.
"""

from __future__ import annotations

ACCOUNT_PREFIX = "account:"
INTEGRATION_PREFIX = "integration:"
CUSTOMER = "customer"
BOT = "bot"
SYSTEM = "system"


def actor_for_account(account_id: int) -> str:
    return f"{ACCOUNT_PREFIX}{account_id}"


def actor_for_integration(token_name: str) -> str:
    """The integration API token, by its configured name (``GRIDDESK_API_TOKEN_NAME``)."""
    return f"{INTEGRATION_PREFIX}{token_name}"


def account_id_of(actor: str) -> int | None:
    """The account an actor string names, or None (the customer, the bot, the system, an import)."""
    if not actor.startswith(ACCOUNT_PREFIX):
        return None
    rest = actor[len(ACCOUNT_PREFIX) :]
    return int(rest) if rest.isascii() and rest.isdigit() else None
