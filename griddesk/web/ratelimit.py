"""The limiter of the edge: who a client is, how much a customer may ask, and the 429 when it is too much.

- :func:`client_address` — the peer's address (``request.remote``); ``X-Forwarded-For`` is believed only
  when the peer is one of ``GRIDDESK_TRUSTED_PROXIES``, read right to left past the trusted hops. An IPv6
  client counts by its /64 (one subscriber's network: the rest of the address is theirs to change).
- :class:`CustomerLimits` — the checks of the customer endpoints (``GRIDDESK_RATE_*``): messages and ratings,
  reads (history, status, live), requests for a person.
- :func:`enforce` — count one event against the checks, or raise ``429 rate_limited`` with ``Retry-After``
  (an event refused is counted nowhere).
- :data:`counter_purge` — an ``app.cleanup_ctx`` entry deleting counters no window needs any more.

The counts are in the database (:mod:`griddesk.ratelimit`), so the limits hold across gateway processes.
Staff logins are throttled by ``accounts.login`` with the same counters.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

from aiohttp import web

from griddesk.db import utcnow
from griddesk.ratelimit import Check, Limit, key_of, purge, take
from griddesk.settings import RateLimits
from griddesk.web.errors import ApiError
from griddesk.web.keys import settings_key
from griddesk.web.tasks import periodic

log = logging.getLogger(__name__)

MINUTE = 60
HANDOFF_WINDOW = 10 * MINUTE
PURGE_SECONDS = 10 * MINUTE
RATE_LIMITED_MESSAGE = "请求过于频繁，请稍后再试。"

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def rate_limited(retry_after: int) -> ApiError:
    """``429 rate_limited`` saying when to come back (``Retry-After``, whole seconds)."""
    return ApiError(429, "rate_limited", RATE_LIMITED_MESSAGE, headers={"Retry-After": str(max(1, retry_after))})


class CustomerLimits:
    """The checks of the customer endpoints, from ``GRIDDESK_RATE_*``."""

    def __init__(self, rate: RateLimits) -> None:
        self._messages_address = Limit("message.address", rate.messages_per_address, MINUTE)
        self._messages_conversation = Limit("message.conversation", rate.messages_per_conversation, MINUTE)
        self._reads_address = Limit("read.address", rate.reads_per_address, MINUTE)
        self._reads_conversation = Limit("read.conversation", rate.reads_per_conversation, MINUTE)
        self._handoffs_address = Limit("handoff.address", rate.handoffs_per_address, HANDOFF_WINDOW)

    def messages(self, address: str, sender: str) -> list[Check]:
        """A customer message or rating (REST, Socket.IO)."""
        return [(self._messages_address, key_of(address)), (self._messages_conversation, key_of(sender))]

    def reads(self, address: str, sender: str) -> list[Check]:
        """Reading one's conversation: history, status, a live connection."""
        return [(self._reads_address, key_of(address)), (self._reads_conversation, key_of(sender))]

    def handoffs(self, address: str) -> list[Check]:
        """A request for a person (转人工, or the bot's own escalation)."""
        return [(self._handoffs_address, key_of(address))]


def customer_limits(app: web.Application) -> CustomerLimits:
    return CustomerLimits(app[settings_key].rate)


async def enforce(checks: Sequence[Check], now: datetime | None = None) -> None:
    """Count one event against every check, or raise ``429 rate_limited`` (nothing counted)."""
    verdict = await asyncio.to_thread(take, checks, now or utcnow())
    if not verdict.allowed:
        raise rate_limited(verdict.retry_after)


# -- the client's address --------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[IpNetwork, ...]:
    return tuple(ipaddress.ip_network(network, strict=False) for network in trusted)


def _ip(text: str) -> IpAddress | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 203.0.113.5:443
        text = text.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return mapped or ip


def _trusted(ip: IpAddress, networks: tuple[IpNetwork, ...]) -> bool:
    return any(ip.version == network.version and ip in network for network in networks)


def _counted(ip: IpAddress) -> str:
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


def client_address(request: web.Request) -> str:
    """The client's address as the limits count it (IPv4 as is, IPv6 by /64; ``unknown`` without a peer)."""
    peer = _ip(request.remote or "")
    if peer is None:
        return "unknown"
    networks = _networks(request.app[settings_key].trusted_proxies)
    if networks and _trusted(peer, networks):
        hops = [hop for header in request.headers.getall("X-Forwarded-For", []) for hop in header.split(",")]
        for hop in reversed(hops):
            ip = _ip(hop)
            if ip is None:
                break  # a hop we cannot read: believe nothing beyond it
            if not _trusted(ip, networks):
                return _counted(ip)
            peer = ip
    return _counted(peer)


# -- upkeep ----------------------------------------------------------------------------------------


async def _purge(_app: web.Application) -> None:
    removed = await asyncio.to_thread(purge, utcnow())
    if removed:
        log.debug("removed %d expired rate counters", removed)


# ``app.cleanup_ctx`` entry: counters older than two windows are deleted every ten minutes.
counter_purge = periodic("rate counter purge", _purge, lambda _app: PURGE_SECONDS)
