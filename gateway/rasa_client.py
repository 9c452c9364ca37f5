"""Client of the Rasa server's REST channel. Returns Rasa's replies or raises BotUnavailable.

Every message carries the gateway's client identifier under ``CLIENT_METADATA_KEY`` (or no such key when
there is none): whatever the customer's client put under that key is replaced here, on the one way to Rasa.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web

from griddesk.clients import CLIENT_METADATA_KEY


class BotUnavailable(RuntimeError):
    """Rasa (or the action server behind it) did not answer in time or answered with an error."""


class RasaClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, timeout: float) -> None:
        self.session = session  # the gateway's one outgoing HTTP session (health checks use it too)
        self._url = f"{base_url}/webhooks/rest/webhook"
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None, client: str | None = None
    ) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"sender": sender, "message": text}
        sent = {key: value for key, value in (metadata or {}).items() if key != CLIENT_METADATA_KEY}
        if client is not None:
            sent[CLIENT_METADATA_KEY] = client
        if sent:
            body["metadata"] = sent
        try:
            async with self.session.post(self._url, json=body, timeout=self._timeout) as response:
                if response.status != 200:
                    raise BotUnavailable(f"Rasa answered HTTP {response.status}")
                replies = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise BotUnavailable(f"Rasa unreachable: {exc!r}") from exc
        if not isinstance(replies, list) or not all(isinstance(r, dict) for r in replies):
            raise BotUnavailable("Rasa answered with something that is not a list of messages")
        return replies


rasa_key = web.AppKey("rasa", RasaClient)
