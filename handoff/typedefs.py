"""Typed application state of the gateway (aiohttp ``AppKey``s), in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from griddesk.settings import Settings
from handoff.hub import Hub
from handoff.rasa_client import RasaClient
from knowledge_base.search import KnowledgeBase

if TYPE_CHECKING:
    from handoff.inbox import Inbox  # the inbox uses these keys itself

settings_key = web.AppKey("settings", Settings)
rasa_key = web.AppKey("rasa", RasaClient)
kb_key = web.AppKey("knowledge_base", KnowledgeBase)
hub_key = web.AppKey("hub", Hub)
inbox_key: web.AppKey[Inbox] = web.AppKey("inbox")
