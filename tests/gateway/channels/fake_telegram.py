"""A local stand-in for the Telegram Bot API: records every call and answers as scripted.

``POST /bot<token>/<method>`` with a JSON body, answered like the real API: ``{"ok": true, "result": …}``
or ``{"ok": false, "error_code", "description", "parameters"?}``. Script failures with
``fake.answer("sendMessage", rate_limited(1), server_error())``: each call takes the next scripted answer,
then the default success. A wrong token is answered 401 as Telegram does.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

Answer = tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class Call:
    method: str
    body: dict[str, Any]
    at: float  # time.monotonic() when it arrived


def rate_limited(retry_after: int) -> Answer:
    return 429, {
        "ok": False,
        "error_code": 429,
        "description": f"Too Many Requests: retry after {retry_after}",
        "parameters": {"retry_after": retry_after},
    }


def server_error() -> Answer:
    return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}


def blocked() -> Answer:
    return 403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}


class FakeTelegram:
    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.url = ""  # set by the fixture once the server listens
        self._script: dict[str, deque[Answer]] = defaultdict(deque)
        self._message_id = 0

    def answer(self, method: str, *answers: Answer) -> None:
        self._script[method].extend(answers)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        return app

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [call.body for call in self.calls if call.method == method]

    async def wait_for(self, count: int, method: str = "sendMessage", timeout: float = 8.0) -> list[dict[str, Any]]:
        """The bodies of the first ``count`` calls of ``method``, waiting for them to arrive."""
        deadline = time.monotonic() + timeout
        while len(self.sent(method)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.sent(method))} {method} calls after {timeout} s, expected {count}")
            await asyncio.sleep(0.05)
        return self.sent(method)[:count]

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        body = await request.json()
        self.calls.append(Call(method, body, time.monotonic()))
        if self._script[method]:
            status, answer = self._script[method].popleft()
            return web.json_response(answer, status=status)
        if method in ("sendMessage", "sendPhoto"):
            self._message_id += 1
            return web.json_response(
                {
                    "ok": True,
                    "result": {
                        "message_id": self._message_id,
                        "date": int(time.time()),
                        "chat": {"id": body.get("chat_id"), "type": "private"},
                        "text": body.get("text"),
                    },
                }
            )
        return web.json_response({"ok": True, "result": True})
