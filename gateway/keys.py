"""Typed application state of the gateway itself (aiohttp ``AppKey``s): the Rasa client and the inbox.

Features keep their own keys next to their routes: ``griddesk.web.keys.settings_key``,
``conversations.hub.hub_key``, ``knowledge_base.web.keys.kb_key``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from gateway.rasa_client import RasaClient

if TYPE_CHECKING:
    from gateway.inbox import Inbox  # the inbox uses these keys itself

rasa_key = web.AppKey("rasa", RasaClient)
inbox_key: web.AppKey[Inbox] = web.AppKey("inbox")
