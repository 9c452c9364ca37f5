"""Typed application state of the gateway (aiohttp ``AppKey``s), in one place."""

from __future__ import annotations

from aiohttp import web

from griddesk.settings import Settings
from handoff.rasa_client import RasaClient
from knowledge_base.search import KnowledgeBase

settings_key = web.AppKey("settings", Settings)
rasa_key = web.AppKey("rasa", RasaClient)
kb_key = web.AppKey("knowledge_base", KnowledgeBase)
