"""/healthz says how each component is; /readyz is 200 only when the database, Rasa and the action server answer."""

from __future__ import annotations

import dataclasses

import pytest
from aiohttp import web

from gateway.app import create_app
from gateway.health import action_server_health_url
from knowledge_base.search import KnowledgeBase
from tests.encoders import HashingEncoder


async def test_liveness_is_200_and_names_the_component_that_is_down(client):
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["components"]["gateway"] == "ok" and body["components"]["database"] == "ok"
    assert body["components"]["rasa"] == "unavailable"  # the test gateway's Rasa URL answers nothing


async def test_readiness_is_503_while_rasa_or_the_action_server_is_down(client):
    response = await client.get("/readyz")
    assert response.status == 503
    body = await response.json()
    assert body["status"] == "not_ready"
    assert body["components"]["rasa"] == "unavailable" and body["components"]["action_server"] == "unavailable"


@pytest.fixture
async def fake_bot(aiohttp_server):
    """Stand-ins answering Rasa's root and the action server's /health, as the real ones do."""

    async def hello(_request: web.Request) -> web.Response:
        return web.Response(text="Hello from Rasa: 3.6.21")

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_get("/health", health)
    return await aiohttp_server(app)


async def test_readiness_is_200_when_everything_answers(aiohttp_client, gateway_settings, fake_bot):
    base = str(fake_bot.make_url("")).rstrip("/")
    settings = dataclasses.replace(gateway_settings, rasa_url=base, action_server_url=f"{base}/webhook")
    app = create_app(settings, knowledge_base=KnowledgeBase(settings, HashingEncoder()), warm_index=False)
    client = await aiohttp_client(app)
    response = await client.get("/readyz")
    assert response.status == 200, await response.text()
    assert set((await response.json())["components"].values()) == {"ok"}


@pytest.mark.parametrize(
    "webhook, health",
    [
        ("http://127.0.0.1:5055/webhook", "http://127.0.0.1:5055/health"),
        ("http://127.0.0.1:5055/webhook/", "http://127.0.0.1:5055/health"),
        ("http://actions.internal/", "http://actions.internal/health"),
    ],
)
def test_the_action_servers_health_is_beside_its_webhook(webhook, health):
    assert action_server_health_url(webhook) == health
