"""A local fake of WeCom's server API (``gettoken``, ``message/send``) that records every call.

The real service is unreachable from tests; this one answers in the documented shapes
(``{"errcode": 0, "errmsg": "ok", "access_token", "expires_in"}``) and can be told to fail.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

CORP_ID = "wx5823bf96d3bd56c7"
SECRET = "the-app-secret"


@dataclass
class FakeWeCom:
    expires_in: int = 7200
    tokens_issued: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    # errcodes (or HTTP statuses as negative numbers) for the next message/send calls, one per call
    send_failures: list[int] = field(default_factory=list)
    valid_tokens: set[str] = field(default_factory=set)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    async def start(self, aiohttp_server: Any) -> None:
        """Serve the fake with pytest-aiohttp's ``aiohttp_server`` fixture; ``url`` is its base."""
        server = await aiohttp_server(self.app())
        self.url = str(server.make_url("")).rstrip("/")

    async def gettoken(self, request: web.Request) -> web.Response:
        if request.query.get("corpid") != CORP_ID or request.query.get("corpsecret") != SECRET:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        self.tokens_issued += 1
        token = f"token-{self.tokens_issued}"
        self.valid_tokens.add(token)
        return web.json_response({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.expires_in})

    async def send(self, request: web.Request) -> web.Response:
        token = request.query.get("access_token", "")
        body = await request.json()
        if self.send_failures:
            failure = self.send_failures.pop(0)
            if failure < 0:
                return web.Response(status=-failure, text="upstream error")
            if failure in (40014, 42001):
                self.valid_tokens.discard(token)
            return web.json_response({"errcode": failure, "errmsg": "simulated failure"})
        if token not in self.valid_tokens:
            return web.json_response({"errcode": 40014, "errmsg": "invalid access_token"})
        self.sent.append({"token": token, **body})
        self.arrived.set()
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": f"msg-{len(self.sent)}"})

    def texts_to(self, user_id: str) -> list[str]:
        return [m["text"]["content"] for m in self.sent if m["touser"] == user_id]

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        """Until at least ``count`` messages have been sent."""

        async def enough() -> None:
            while len(self.sent) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(enough(), timeout)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/gettoken", self.gettoken)
        app.router.add_post("/cgi-bin/message/send", self.send)
        return app
