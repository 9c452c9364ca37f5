"""The Telegram Bot API, outgoing: one client with retries and the platform's rate limits.

``TelegramApi.call(method, payload)`` posts to ``<base>/bot<token>/<method>`` and returns the
``result``. A 429 waits the ``parameters.retry_after`` Telegram asks for, then tries again; a 5xx or
a network error backs off exponentially; after ``tries`` attempts it raises ``TelegramUnavailable``
(worth retrying later). A 4xx (bad request, the user blocked the bot…) raises ``TelegramRejected``:
trying again will not help. The token is never logged or put in an error message.

Telegram asks bots to send at most one message per second to a chat and about 30 per second overall;
``RateLimiter`` spaces the sends that way (callers ``await limiter.acquire(chat_id)`` first).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

TRIES = 3
BACKOFF_SECONDS = 0.5  # then 1.0, 2.0…
MAX_RETRY_AFTER = 30.0  # a longer 429 pause is left to the caller's own retry (the relay's)
TIMEOUT_SECONDS = 10.0


class TelegramError(Exception):
    """A Bot API call failed."""


class TelegramUnavailable(TelegramError):
    """Network errors, 5xx or rate limiting outlasted the retries: try again later."""


class TelegramRejected(TelegramError):
    """Telegram refused the call (4xx: bad request, bot blocked by the user, chat not found…)."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(f"{status} {description}")
        self.status = status
        self.description = description


class RateLimiter:
    """At most one send per ``per_chat_interval`` to a chat and ``per_window`` sends per ``window`` overall."""

    def __init__(
        self,
        per_chat_interval: float = 1.0,
        per_window: int = 30,
        window: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        max_chats: int = 10_000,
    ) -> None:
        self.per_chat_interval = per_chat_interval
        self.per_window = per_window
        self.window = window
        self._clock = clock
        self._max_chats = max_chats
        self._next_at: dict[int | str, float] = {}  # chat → earliest time of its next send
        self._recent: deque[float] = deque()  # times of the sends in the current window
        self._lock = asyncio.Lock()

    async def acquire(self, chat_id: int | str) -> None:
        """Wait until a message may be sent to ``chat_id``, and count it."""
        while True:
            async with self._lock:
                now = self._clock()
                while self._recent and now - self._recent[0] >= self.window:
                    self._recent.popleft()
                wait = self._next_at.get(chat_id, 0.0) - now
                if len(self._recent) >= self.per_window:
                    wait = max(wait, self._recent[0] + self.window - now)
                if wait <= 0:
                    self._recent.append(now)
                    self._next_at[chat_id] = now + self.per_chat_interval
                    if len(self._next_at) > self._max_chats:
                        self._next_at = {chat: at for chat, at in self._next_at.items() if at > now}
                    return
            await asyncio.sleep(wait)


class TelegramApi:
    """Bot API calls for one bot token."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        token: str,
        limiter: RateLimiter | None = None,
        tries: int = TRIES,
        backoff_seconds: float = BACKOFF_SECONDS,
        timeout_seconds: float = TIMEOUT_SECONDS,
    ) -> None:
        self._session = session
        self._base = f"{base_url.rstrip('/')}/bot{token}"
        self.limiter = limiter or RateLimiter()
        self.tries = tries
        self.backoff_seconds = backoff_seconds
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def send_message(self, chat_id: int, text: str, reply_markup: dict[str, Any] | None = None) -> Any:
        payload: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if reply_markup is not None:
            payload["reply_markup"] = reply_markup
        await self.limiter.acquire(chat_id)
        return await self.call("sendMessage", payload)

    async def send_photo(self, chat_id: int, photo: str, caption: str | None = None) -> Any:
        payload: dict[str, Any] = {"chat_id": chat_id, "photo": photo}
        if caption:
            payload["caption"] = caption
        await self.limiter.acquire(chat_id)
        return await self.call("sendPhoto", payload)

    async def answer_callback_query(self, callback_query_id: str, text: str | None = None) -> Any:
        """Stop the spinner on the button the customer pressed, with a short notice ``text`` if given (one try:
        it is only cosmetic)."""
        payload: dict[str, Any] = {"callback_query_id": callback_query_id}
        if text:
            payload["text"] = text
        return await self.call("answerCallbackQuery", payload, tries=1)

    async def remove_keyboard(self, chat_id: int, message_id: int) -> Any:
        """Take the inline keyboard off a message, so its buttons cannot be pressed again (one try)."""
        payload = {"chat_id": chat_id, "message_id": message_id, "reply_markup": {"inline_keyboard": []}}
        return await self.call("editMessageReplyMarkup", payload, tries=1)

    async def call(self, method: str, payload: dict[str, Any], tries: int | None = None) -> Any:
        tries = tries or self.tries
        problem = "no attempt"
        for attempt in range(1, tries + 1):
            try:
                async with self._session.post(
                    f"{self._base}/{method}", json=payload, timeout=self._timeout
                ) as response:
                    status = response.status
                    try:
                        body = await response.json(content_type=None)
                    except (ValueError, aiohttp.ContentTypeError):
                        body = None
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = f"network error ({type(exc).__name__})"
                delay = self.backoff_seconds * 2 ** (attempt - 1)
            else:
                body = body if isinstance(body, dict) else {}
                description = str(body.get("description") or "")
                if status == 200 and body.get("ok") is True:
                    return body.get("result")
                if status == 429:
                    problem = f"429 {description}".strip()
                    delay = _retry_after(body)
                    if delay > MAX_RETRY_AFTER:
                        raise TelegramUnavailable(f"{method}: rate limited for {delay:.0f} s")
                elif status >= 500 or status == 200:  # 200 without ok: a broken proxy; treat as transient
                    problem = f"{status} {description}".strip()
                    delay = self.backoff_seconds * 2 ** (attempt - 1)
                else:
                    raise TelegramRejected(status, description or "rejected")
            if attempt < tries:
                log.info("telegram %s failed (%s); retry %d/%d in %.1f s", method, problem, attempt, tries - 1, delay)
                await asyncio.sleep(delay)
        raise TelegramUnavailable(f"{method}: {problem} after {tries} tries")


def _retry_after(body: dict[str, Any]) -> float:
    parameters = body.get("parameters")
    value = parameters.get("retry_after") if isinstance(parameters, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return 1.0
