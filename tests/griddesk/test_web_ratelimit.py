"""The edge's limiter: the client's address behind proxies, and 429 answers with Retry-After; the error policy's
headers and malformed request parts."""

from __future__ import annotations

import dataclasses

import pytest
from aiohttp import web
from aiohttp.http_exceptions import InvalidHeader
from aiohttp.test_utils import make_mocked_request

from griddesk.settings import load_settings
from griddesk.web.errors import json_errors
from griddesk.web.keys import settings_key
from griddesk.web.ratelimit import client_address, rate_limited


def request_from(peer: str | None, forwarded: list[str] | None = None, trusted: tuple[str, ...] = ()):
    app = web.Application()
    app[settings_key] = dataclasses.replace(load_settings({}), trusted_proxies=trusted)
    headers = [("X-Forwarded-For", value) for value in forwarded or []]
    request = make_mocked_request("GET", "/webhooks/rest/status", headers=headers, app=app)
    return request.clone(remote=peer)


@pytest.mark.parametrize(
    "peer, forwarded, trusted, expected",
    [
        ("203.0.113.5", [], (), "203.0.113.5"),
        # a forwarded address is believed only from a trusted proxy
        ("203.0.113.5", ["10.9.9.9"], (), "203.0.113.5"),
        ("10.0.0.2", ["198.51.100.7"], ("10.0.0.0/8",), "198.51.100.7"),
        # read right to left past the trusted hops; what the client itself wrote on the left is not believed
        ("10.0.0.2", ["1.2.3.4, 198.51.100.7, 10.0.0.3"], ("10.0.0.0/8",), "198.51.100.7"),
        ("10.0.0.2", ["1.2.3.4", "198.51.100.7"], ("10.0.0.0/8",), "198.51.100.7"),
        ("10.0.0.2", ["198.51.100.7:51234"], ("10.0.0.0/8",), "198.51.100.7"),
        ("10.0.0.2", ["not an address"], ("10.0.0.0/8",), "10.0.0.2"),
        ("10.0.0.2", [], ("10.0.0.0/8",), "10.0.0.2"),
        ("10.0.0.2", ["10.0.0.7"], ("10.0.0.0/8",), "10.0.0.7"),  # only proxies: the last one
        # an IPv6 client counts by its /64; an IPv4-mapped one as its IPv4 address
        ("2001:db8:1:2:aaaa::1", [], (), "2001:db8:1:2::/64"),
        ("::1", ["[2001:db8:1:2:bbbb::9]:443"], ("::1/128",), "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.5", [], (), "203.0.113.5"),
        (None, [], (), "unknown"),
    ],
)
def test_the_client_address_trusts_x_forwarded_for_only_from_trusted_proxies(peer, forwarded, trusted, expected):
    assert client_address(request_from(peer, forwarded, trusted)) == expected


def raising(error: Exception):
    async def handler(_request: web.Request) -> web.Response:
        raise error

    return handler


@pytest.fixture
def failing(aiohttp_client):
    async def client_for(error: Exception):
        app = web.Application(middlewares=[json_errors])
        app.router.add_post("/api/v1/x", raising(error))
        return await aiohttp_client(app)

    return client_for


async def test_a_429_carries_retry_after_and_the_chinese_message(failing):
    client = await failing(rate_limited(37))
    response = await client.post("/api/v1/x")
    assert response.status == 429 and response.headers["Retry-After"] == "37"
    assert await response.json() == {"error": {"code": "rate_limited", "message": "请求过于频繁，请稍后再试。"}}


async def test_a_malformed_part_of_a_request_found_while_reading_it_is_400_not_500(failing):
    client = await failing(InvalidHeader(b"X-\x01"))
    response = await client.post("/api/v1/x")
    assert response.status == 400 and (await response.json())["error"]["code"] == "bad_request"
