"""Who the customer is, as the gateway tells Rasa: only an identity the embedding site signed, under a
metadata key the gateway always writes itself (``griddesk_customer``); everything else a client claims is
ignored for routing. A bad proof never fails the message."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import func, select

from conversations.models import Conversation
from customers.identity import make_token, sign_customer
from customers.models import Customer
from gateway.app import create_app
from griddesk.db import session_scope
from griddesk.settings import Secret
from knowledge_base.search import KnowledgeBase
from tests.encoders import HashingEncoder
from tests.ids import web_id

SECRET = "site-secret-2026-aaaaaaaa"
KEY = "griddesk_customer"
# sender ids of the random shape the web channels require
WEB1, WEB2, WEB3, PHONE, LAPTOP = (web_id(name) for name in ("web-1", "web-2", "web-3", "phone-1", "laptop-1"))


class FakeRasa:
    """Rasa's REST channel: answers every message; records the bodies it got."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        return web.json_response([{"recipient_id": body["sender"], "text": "好的"}])

    @property
    def last_metadata(self) -> dict[str, Any]:
        """What the bot was told about the customer (the gateway's client identifier is tested on its own)."""
        metadata = dict(self.received[-1].get("metadata") or {})
        metadata.pop("griddesk_client", None)
        return metadata


@pytest.fixture
async def rasa(aiohttp_server) -> FakeRasa:
    fake = FakeRasa()
    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", fake.webhook)
    fake.server = await aiohttp_server(app)  # type: ignore[attr-defined]
    return fake


@pytest.fixture
async def gateway(aiohttp_client, settings, rasa):
    gateway_settings = dataclasses.replace(
        settings,
        rasa_url=str(rasa.server.make_url("")).rstrip("/"),
        rasa_timeout=2.0,
        identity_secret=Secret(SECRET),
    )
    kb = KnowledgeBase(gateway_settings, HashingEncoder(), refresh_seconds=0)
    app = create_app(gateway_settings, knowledge_base=kb, warm_index=False, watch_overdue=False, sweep_queues=False)
    return await aiohttp_client(app)


async def say(gateway, sender: str, metadata: dict[str, Any] | None = None, text: str = "你好") -> list[dict]:
    body: dict[str, Any] = {"sender": sender, "message": text}
    if metadata is not None:
        body["metadata"] = metadata
    response = await gateway.post("/webhooks/rest/webhook", json=body)
    assert response.status == 200, await response.text()
    return await response.json()


def token(**claims: Any) -> str:
    return make_token(SECRET, {"sub": "u-1001", "exp": int(time.time()) + 600, **claims})


def conversation_of(sender: str) -> Conversation:
    with session_scope() as session:
        conversation = session.scalars(select(Conversation).where(Conversation.sender_id == sender)).one()
        session.expunge(conversation)
        return conversation


def customers() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Customer)) or 0


async def test_a_forged_tier_and_region_never_reach_the_bot_nor_the_profile(gateway, rasa):
    forged = {"customer": {"region": "成都市武侯区", "tier": "key", "name": "王先生"}, "language": "zh"}
    assert await say(gateway, WEB1, forged) == [{"recipient_id": WEB1, "text": "好的"}]
    assert rasa.last_metadata == {"language": "zh", KEY: {}}
    assert conversation_of(WEB1).profile == {"name": "王先生"}  # a name to address them by, nothing more
    assert conversation_of(WEB1).customer_id is None and customers() == 0


async def test_a_client_cannot_supply_the_gateways_own_key(gateway, rasa):
    await say(gateway, WEB1, {KEY: {"id": 1, "tier": "key", "region": "成都市武侯区"}})
    assert rasa.last_metadata == {KEY: {}}
    await say(gateway, WEB1)  # no metadata at all: the key is still there
    assert rasa.last_metadata == {KEY: {}}


async def test_a_signed_token_is_passed_on_as_the_verified_customer(gateway, rasa):
    await say(gateway, WEB1, {"customer_token": token(region="成都市武侯区", tier="key", name="王先生")})
    conversation = conversation_of(WEB1)
    assert rasa.last_metadata == {
        KEY: {
            "id": conversation.customer_id,
            "external_id": "u-1001",
            "name": "王先生",
            "region": "成都市武侯区",
            "tier": "key",
        }
    }
    assert conversation.profile == {"name": "王先生", "region": "成都市武侯区", "tier": "key", "verified": True}
    # later messages without the proof: the conversation keeps its verified customer
    await say(gateway, WEB1, {"customer": {"tier": "prospect"}})
    assert rasa.last_metadata[KEY]["tier"] == "key"


async def test_an_hmac_signed_customer_is_passed_on_and_the_signature_is_not(gateway, rasa):
    customer = {"id": "u-2002", "phone": "13800138000", "tier": "general"}
    signature = sign_customer(SECRET, "u-2002", phone="13800138000", tier="general")
    await say(gateway, WEB2, {"customer": {**customer, "signature": signature}})
    facts = rasa.last_metadata[KEY]
    assert (facts["external_id"], facts["phone"], facts["tier"]) == ("u-2002", "13800138000", "general")
    assert "customer" not in rasa.last_metadata


@pytest.mark.parametrize(
    "metadata",
    [
        {"customer_token": make_token("another-site-secret-cccc", {"sub": "u-1", "tier": "key", "exp": 4e9})},
        {"customer_token": make_token(SECRET, {"sub": "u-1", "tier": "key", "exp": 1_000_000_000})},
        {"customer_token": "not.a.token"},
        {"customer": {"id": "u-1", "tier": "key", "signature": sign_customer(SECRET, "u-1")}},
        {"customer": {"id": "u-1", "tier": "key", "signature": "f" * 64}},
    ],
    ids=["wrong secret", "expired", "garbage", "tier added after signing", "wrong signature"],
)
async def test_a_bad_proof_is_ignored_and_the_message_still_answered(gateway, rasa, metadata):
    assert await say(gateway, WEB3, metadata) == [{"recipient_id": WEB3, "text": "好的"}]
    assert rasa.last_metadata == {KEY: {}}
    assert conversation_of(WEB3).customer_id is None and customers() == 0


async def test_two_devices_of_one_verified_customer_share_the_record(gateway, rasa):
    await say(gateway, PHONE, {"customer_token": token(tier="key")})
    await say(gateway, LAPTOP, {"customer_token": token()})
    assert conversation_of(PHONE).customer_id == conversation_of(LAPTOP).customer_id is not None
    assert customers() == 1
