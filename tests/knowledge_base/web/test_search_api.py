from __future__ import annotations

import dataclasses

import pytest

from gateway.app import create_app
from griddesk.db import session_scope
from griddesk.settings import Secret
from knowledge_base.search import KnowledgeBase
from tests.encoders import HashingEncoder
from tests.factories import make_demo_faqs

SEARCH = "/api/v1/kb/search"
AUTH = {"Authorization": "Bearer test-token"}


@pytest.fixture
def demo_faqs(settings):
    with session_scope() as session:
        make_demo_faqs(session)


async def test_search_returns_the_decision_and_ranked_hits(client, demo_faqs):
    response = await client.get(SEARCH, params={"q": "如何开具发票", "k": "2"}, headers=AUTH)
    assert response.status == 200
    body = await response.json()
    assert body["decision"] == "answer"
    assert len(body["hits"]) == 2
    top = body["hits"][0]
    assert {"id", "external_id", "question", "answer", "score"} <= top.keys()
    assert top["question"] == "怎么开发票" and top["score"] > body["hits"][1]["score"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "test-token"}])
async def test_search_requires_the_api_token(client, demo_faqs, headers):
    response = await client.get(SEARCH, params={"q": "发票"}, headers=headers)
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    "params, code",
    [
        ({"q": ""}, "invalid_query"),
        ({}, "invalid_query"),
        ({"q": "发票", "k": "x"}, "invalid_parameter"),
        ({"q": "发票", "k": "0"}, "invalid_parameter"),
        ({"q": "发票", "k": "500"}, "invalid_parameter"),
        ({"q": "a" * 2001}, "invalid_query"),
    ],
)
async def test_bad_search_parameters_get_400(client, demo_faqs, params, code):
    response = await client.get(SEARCH, params=params, headers=AUTH)
    assert response.status == 400
    assert (await response.json())["error"]["code"] == code


async def test_search_is_disabled_when_no_token_is_configured(aiohttp_client, gateway_settings):
    settings = dataclasses.replace(gateway_settings, api_token=Secret(""))
    app = create_app(settings, knowledge_base=KnowledgeBase(settings, HashingEncoder()), warm_index=False)
    client = await aiohttp_client(app)
    response = await client.get(SEARCH, params={"q": "发票"}, headers={"Authorization": "Bearer "})
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "api_disabled"
