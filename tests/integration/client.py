"""A minimal HTTP client for the integration tests (urllib, so nothing else is needed)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass


@dataclass
class Reply:
    status: int
    body: object
    headers: dict[str, str]


def request(method: str, url: str, body: object | None = None, headers: dict[str, str] | None = None,
            timeout: float = 30) -> Reply:
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310 - loopback
            return Reply(response.status, json.loads(response.read() or b"null"), dict(response.headers))
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, json.loads(exc.read() or b"null"), dict(exc.headers))


class Customer:
    """One customer talking to the gateway's REST channel."""

    def __init__(self, gateway_url: str) -> None:
        self.url = f"{gateway_url}/webhooks/rest/webhook"
        self.sender = f"it-{uuid.uuid4().hex[:12]}"

    def say(self, text: str) -> list[dict]:
        reply = request("POST", self.url, {"sender": self.sender, "message": text})
        assert reply.status == 200, reply.body
        assert isinstance(reply.body, list)
        return reply.body

    def texts(self, text: str) -> list[str]:
        return [m.get("text", "") for m in self.say(text)]
