"""The customer's live socket (``/webhooks/rest/live``) refuses browsers on sites that are not allowed."""

from __future__ import annotations

import dataclasses

import aiohttp
import pytest

from gateway.app import create_app
from knowledge_base.search import KnowledgeBase
from tests.encoders import HashingEncoder
from tests.ids import web_id

LIVE = "/webhooks/rest/live"
SENDER = web_id("live")


def own_origin(client) -> str:
    return str(client.make_url("/")).rstrip("/")


async def handshake(client, origin: str | None) -> int:
    """The HTTP status of a websocket handshake with that Origin (101: the socket opened)."""
    headers = {"Origin": origin} if origin else {}
    try:
        async with client.ws_connect(LIVE, params={"sender": SENDER}, headers=headers) as ws:
            assert (await ws.receive_json(timeout=5))["type"] == "status"
            return 101
    except aiohttp.WSServerHandshakeError as refused:
        return refused.status


async def test_the_gateways_own_chat_page_and_clients_without_an_origin_may_connect(client):
    assert await handshake(client, own_origin(client)) == 101
    assert await handshake(client, None) == 101  # not a browser: as before


@pytest.mark.parametrize("origin", ["https://evil.example.com", "null", "http://127.0.0.1"])
async def test_a_browser_on_another_site_is_refused(client, origin):
    assert await handshake(client, origin) == 403
    response = await client.get(LIVE, params={"sender": SENDER}, headers={"Origin": origin})
    error = (await response.json())["error"]
    assert response.status == 403 and error["code"] == "forbidden_origin" and "网站" in error["message"]


async def test_the_configured_widget_sites_may_connect(aiohttp_client, gateway_settings):
    settings = dataclasses.replace(gateway_settings, widget_origins="https://shop.example.com")
    app = create_app(settings, knowledge_base=KnowledgeBase(settings, HashingEncoder()), warm_index=False)
    client = await aiohttp_client(app)
    assert await handshake(client, "https://shop.example.com") == 101
    assert await handshake(client, own_origin(client)) == 101
    assert await handshake(client, "https://other.example.com") == 403
