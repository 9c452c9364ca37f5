"""Typed application state every feature's routes may read (aiohttp ``AppKey``)."""

from __future__ import annotations

from aiohttp import web

from griddesk.settings import Settings

settings_key = web.AppKey("settings", Settings)
