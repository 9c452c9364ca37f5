"""``/healthz`` and ``/readyz``: whether the gateway and the parts behind it are up.

``/healthz`` answers 200 while the gateway process serves (a liveness probe) and says how each
component is; ``/readyz`` answers 200 only when the database, Rasa and the action server all answer,
503 otherwise (a readiness probe: a load balancer sends customers elsewhere meanwhile). Each check is
bounded by a short timeout, so a hung component never hangs the probe.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import text

from gateway.rasa_client import rasa_key
from griddesk.db import run_in_session
from griddesk.web.json import json_response
from griddesk.web.keys import settings_key

CHECK_SECONDS = 2.0
OK, DOWN = "ok", "unavailable"


async def _database() -> str:
    try:
        await asyncio.wait_for(run_in_session(lambda session: session.execute(text("SELECT 1"))), CHECK_SECONDS)
    except Exception:
        return DOWN
    return OK


async def _http(session: aiohttp.ClientSession, url: str) -> str:
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=CHECK_SECONDS)) as response:
            return OK if response.status == 200 else DOWN
    except (aiohttp.ClientError, TimeoutError):
        return DOWN


def action_server_health_url(action_server_url: str) -> str:
    """The action server's ``/health`` beside its ``/webhook``."""
    base = action_server_url.rstrip("/")
    return (base.removesuffix("/webhook") or base) + "/health"


async def components(request: web.Request) -> dict[str, str]:
    settings = request.app[settings_key]
    session = request.app[rasa_key].session
    database, rasa, actions = await asyncio.gather(
        _database(),
        _http(session, f"{settings.rasa_url}/"),  # Rasa's root answers without its API token
        _http(session, action_server_health_url(settings.action_server_url)),
    )
    return {"gateway": OK, "database": database, "rasa": rasa, "action_server": actions}


async def healthz(request: web.Request) -> web.Response:
    found = await components(request)
    body: dict[str, Any] = {"status": "ok", "components": found}
    return json_response(body, headers={"Cache-Control": "no-store"})


async def readyz(request: web.Request) -> web.Response:
    found = await components(request)
    ready = all(state == OK for state in found.values())
    body: dict[str, Any] = {"status": "ready" if ready else "not_ready", "components": found}
    return json_response(body, status=200 if ready else 503, headers={"Cache-Control": "no-store"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
