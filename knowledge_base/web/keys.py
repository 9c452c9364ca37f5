"""The knowledge-base service the gateway shares with the search and admin routes."""

from __future__ import annotations

from aiohttp import web

from knowledge_base.search import KnowledgeBase

kb_key = web.AppKey("knowledge_base", KnowledgeBase)
