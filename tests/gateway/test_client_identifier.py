"""The client identifier the gateway computes for every customer message it passes to Rasa: a keyed hash
of the network address, under a metadata key the gateway always sets itself (the ticket lookup limits
failures per client with it, so a client must not be able to choose it)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from aiohttp import web

from gateway.app import create_app
from knowledge_base.search import KnowledgeBase
from tests.encoders import HashingEncoder
from tests.ids import web_id

WEBHOOK = "/webhooks/rest/webhook"
KEY = "griddesk_client"
WEB1, WEB2, WEB3 = (web_id(name) for name in ("web-1", "web-2", "web-3"))  # the random shape the web requires


class RecordingRasa:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        return web.json_response([{"recipient_id": body["sender"], "text": "好的"}])


@pytest.fixture
async def rasa(aiohttp_server) -> RecordingRasa:
    fake = RecordingRasa()
    app = web.Application()
    app.router.add_post(WEBHOOK, fake.webhook)
    fake.server = await aiohttp_server(app)  # type: ignore[attr-defined]
    return fake


@pytest.fixture
async def gateway(aiohttp_client, settings, rasa):
    gateway_settings = dataclasses.replace(
        settings, rasa_url=str(rasa.server.make_url("")).rstrip("/"), rasa_timeout=2.0
    )
    kb = KnowledgeBase(gateway_settings, HashingEncoder(), refresh_seconds=0)
    app = create_app(gateway_settings, knowledge_base=kb, warm_index=False, watch_overdue=False, sweep_queues=False)
    return await aiohttp_client(app)


async def test_every_message_to_rasa_carries_the_gateways_client_identifier_not_the_clients(gateway, rasa):
    forged = {KEY: "chosen-by-the-client", "customer": {"region": "成都市武侯区"}}
    for sender, metadata in ((WEB1, forged), (WEB2, None), (WEB3, {KEY: None})):
        body: dict[str, Any] = {"sender": sender, "message": "查一下工单"}
        if metadata is not None:
            body["metadata"] = metadata
        assert (await gateway.post(WEBHOOK, json=body)).status == 200
    clients = [received["metadata"][KEY] for received in rasa.received]
    # one address, one identifier, whatever the conversation; a keyed hash, never the address itself
    assert len(set(clients)) == 1 and re.fullmatch(r"[0-9a-f]{32}", clients[0])
    assert "127.0.0.1" not in str(rasa.received)
    # an unverified customer's claims stay behind (issue 12: identity); the gateway's own keys go along
    assert "customer" not in rasa.received[0]["metadata"] and rasa.received[0]["metadata"]["griddesk_customer"] == {}
