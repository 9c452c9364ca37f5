"""WeCom's message API, outgoing: access-token caching and ``message/send`` for a self-built app.

``GET {api}/cgi-bin/gettoken?corpid=…&corpsecret=…`` gives a token valid ``expires_in`` seconds; it is
cached until shortly before that and fetched again once when the API says it is invalid or expired
(errcode 40014/42001/41001). Texts go out with ``POST {api}/cgi-bin/message/send?access_token=…``.
Failures worth retrying (network, 5xx, "system busy", rate limits, no token) raise
:class:`gateway.channels.relay.DeliveryError`; permanent ones (unknown user, blocked app…) raise
:class:`PermanentSendError` so the caller can log and drop the message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from gateway.channels.relay import DeliveryError

log = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40014, 41001, 42001})  # invalid, missing, expired access_token
RETRYABLE_ERRORS = frozenset({-1, 45009, 45033, 45011})  # system busy, rate limits, concurrency limit
TOKEN_MARGIN_SECONDS = 300.0
REQUEST_TIMEOUT_SECONDS = 10.0


class PermanentSendError(Exception):
    """WeCom refused a message for good (e.g. unknown user): retrying would not help."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeComClient:
    """One self-built app's outgoing API, sharing the gateway's HTTP client session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_url: str,
        corp_id: str,
        agent_id: int,
        secret: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self._api = api_url.rstrip("/")
        self._corp_id = corp_id
        self._agent_id = agent_id
        self._secret = secret
        self._clock = clock
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()

    async def send_text(self, user_id: str, content: str) -> None:
        """Send one text message (at most 2048 bytes) to ``user_id``."""
        body = {"touser": user_id, "msgtype": "text", "agentid": self._agent_id, "text": {"content": content}}
        token = await self.access_token()
        reply = await self._call("POST", "/cgi-bin/message/send", {"access_token": token}, body)
        errcode = _errcode(reply)
        if errcode in TOKEN_ERRORS:
            self._forget(token)
            reply = await self._call("POST", "/cgi-bin/message/send", {"access_token": await self.access_token()}, body)
            errcode = _errcode(reply)
        if errcode == 0:
            if reply.get("invaliduser"):
                raise PermanentSendError(0, f"invalid user {reply.get('invaliduser')}")
            return
        errmsg = str(reply.get("errmsg", ""))
        if errcode in RETRYABLE_ERRORS or errcode in TOKEN_ERRORS:
            raise DeliveryError(f"WeCom message/send errcode {errcode}: {errmsg}")
        raise PermanentSendError(errcode, errmsg)

    async def access_token(self) -> str:
        """The cached access token, fetched when missing or about to expire."""
        async with self._token_lock:
            if self._token is not None and self._clock() < self._token_expires:
                return self._token
            reply = await self._call("GET", "/cgi-bin/gettoken", {"corpid": self._corp_id, "corpsecret": self._secret})
            token, expires_in = reply.get("access_token"), reply.get("expires_in")
            if _errcode(reply) != 0 or not isinstance(token, str) or not token:
                # a wrong CorpID/Secret is a configuration error: keep the messages until it is fixed
                log.error("WeCom gettoken failed: errcode %s %s", reply.get("errcode"), reply.get("errmsg"))
                raise DeliveryError(f"WeCom gettoken errcode {reply.get('errcode')}")
            lifetime = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 7200.0
            margin = min(TOKEN_MARGIN_SECONDS, lifetime / 2)
            self._token, self._token_expires = token, self._clock() + lifetime - margin
            return token

    def _forget(self, token: str) -> None:
        if self._token == token:
            self._token = None

    async def _call(
        self, method: str, path: str, params: dict[str, str], body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        try:
            async with self._session.request(
                method,
                f"{self._api}{path}",
                params=params,
                json=body,
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS),
            ) as response:
                if response.status >= 500 or response.status == 429:
                    raise DeliveryError(f"WeCom {path} answered HTTP {response.status}")
                if response.status >= 400:
                    raise PermanentSendError(-response.status, f"HTTP {response.status}")
                reply = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            # the exception is named, not printed: URLs carry the access token or the secret
            raise DeliveryError(f"WeCom {path} unreachable or unreadable ({type(exc).__name__})") from None
        if not isinstance(reply, dict):
            raise DeliveryError(f"WeCom {path} answered something other than a JSON object")
        return reply


def _errcode(reply: dict[str, Any]) -> int:
    errcode = reply.get("errcode", 0)
    return errcode if isinstance(errcode, int) else -1
