"""A minimal HTTP client for the integration tests (urllib, so nothing else is needed)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass

from customers.identity import make_token

# the embedding site's secret the stack is started with (GRIDDESK_IDENTITY_SECRET, tests/integration/conftest.py)
IDENTITY_SECRET = "integration-identity-secret"


def customer_token(external_id: str | None = None, **attributes: str) -> str:
    """A token the embedding site's server would sign for a customer (valid for an hour)."""
    claims = {"sub": external_id or f"it-{uuid.uuid4().hex[:12]}", "exp": int(time.time()) + 3600, **attributes}
    return make_token(IDENTITY_SECRET, claims)


def verified(external_id: str | None = None, **attributes: str) -> dict[str, str]:
    """Message metadata proving who the customer is (name, phone, region, tier as keywords)."""
    return {"customer_token": customer_token(external_id, **attributes)}


@dataclass
class Reply:
    status: int
    body: object
    headers: dict[str, str]


def request(
    method: str, url: str, body: object | None = None, headers: dict[str, str] | None = None, timeout: float = 30
) -> Reply:
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return Reply(response.status, json.loads(response.read() or b"null"), dict(response.headers))
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, json.loads(exc.read() or b"null"), dict(exc.headers))


class Customer:
    """One customer talking to the gateway's REST channel."""

    def __init__(self, gateway_url: str, metadata: dict[str, object] | None = None) -> None:
        """``metadata`` rides on every message: ``verified(…)`` for a customer the site signed."""
        self.base = gateway_url
        self.url = f"{gateway_url}/webhooks/rest/webhook"
        self.sender = f"it-{uuid.uuid4().hex}"  # the random shape the web channels require
        self.metadata = metadata

    def say(self, text: str) -> list[dict]:
        body = {"sender": self.sender, "message": text}
        if self.metadata:
            body["metadata"] = self.metadata
        reply = request("POST", self.url, body)
        assert reply.status == 200, reply.body
        assert isinstance(reply.body, list)
        return reply.body

    def texts(self, text: str) -> list[str]:
        return [m.get("text", "") for m in self.say(text)]

    def status(self) -> dict:
        reply = request("GET", f"{self.base}/webhooks/rest/status?sender={self.sender}")
        assert reply.status == 200, reply.body
        return reply.body

    def history(self, after: int = 0) -> list[dict]:
        reply = request("GET", f"{self.base}/webhooks/rest/history?sender={self.sender}&after={after}")
        assert reply.status == 200, reply.body
        return reply.body["messages"]


class Staff:
    """An agent, manager or admin logged into the gateway (cookie session + CSRF token)."""

    def __init__(self, gateway_url: str, username: str, password: str) -> None:
        self.base = gateway_url
        reply = request("POST", f"{gateway_url}/api/v1/auth/login", {"username": username, "password": password})
        assert reply.status == 200, reply.body
        cookie = next(v for k, v in reply.headers.items() if k.lower() == "set-cookie")
        self.cookie = cookie.split(";", 1)[0]  # griddesk_session=…
        self.csrf = reply.body["csrf_token"]
        self.account = reply.body["account"]

    @property
    def headers(self) -> dict[str, str]:
        return {"Cookie": self.cookie, "X-CSRF-Token": self.csrf}

    def get(self, path: str) -> Reply:
        return request("GET", self.base + path, headers=self.headers)

    def post(self, path: str, body: object | None = None) -> Reply:
        return request("POST", self.base + path, body if body is not None else {}, headers=self.headers)
