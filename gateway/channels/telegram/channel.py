"""The Telegram channel: ``POST /webhooks/telegram`` in, the Bot API out (docs/channels.md).

In: Telegram posts each ``Update`` with the ``secret_token`` given to setWebhook in the
``X-Telegram-Bot-Api-Secret-Token`` header; a missing or wrong one is refused (401) before the body
is read. A text becomes ``Incoming(sender="tg:<chat id>", channel="telegram")`` for the inbox;
``/start`` greets (the bot's ``/greet`` intent); a pressed button is answered (the spinner stops)
and its payload sent; stickers, photos, voice, files, locations and edits get
``messages.UNSUPPORTED_MESSAGE`` (recorded in the transcript like any reply). Group chats are ignored
(``telegram_updates``). Handled and ignored updates are answered 200 — Telegram redelivers anything
else — and a malformed one 400.

Replays: Telegram redelivers an update it saw no 2xx for. The ids of the updates taken in the last
``REPLAY_SECONDS`` are kept in the database (``RecentUpdates``, :mod:`griddesk.replay`), so a redelivery of
something already taken is answered 200 and ignored — by this gateway process or any other on the same
database (several replicas), and after a restart too. An update whose handling failed is forgotten, so its
redelivery is taken again.

Out: the relay (``gateway.channels.relay``) calls ``TelegramChannel.send`` for every bot, agent and
system message, in order; replies are not sent from the webhook. See ``telegram_render`` (splitting,
inline keyboards) and ``telegram_api`` (retries, rate limits).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import select

from conversations.models import Author, Conversation, Message
from gateway.channels.buttons import buttons_of, choose
from gateway.channels.relay import DeliveryError, relay_key
from gateway.channels.telegram.api import (
    RateLimiter,
    TelegramApi,
    TelegramRejected,
    TelegramUnavailable,
)
from gateway.channels.telegram.render import parse_callback_data, render
from gateway.channels.telegram.updates import (
    ButtonPress,
    Ignored,
    TextMessage,
    Unsupported,
    read_update,
)
from gateway.channels.unsupported import answer_unsupported, refuse_if_too_long
from gateway.inbox import Incoming, inbox_key
from griddesk import replay
from griddesk.db import session_scope
from griddesk.fields import CONTROL_CHARS
from griddesk.web.errors import ApiError
from griddesk.web.json import json_response
from griddesk.web.keys import settings_key

log = logging.getLogger(__name__)

CHANNEL = "telegram"
WEBHOOK_PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SENDER_PREFIX = "tg:"
MAX_UPDATE_BYTES = 1024 * 1024
REPLAY_SECONDS = 24 * 3600  # Telegram keeps an update it could not deliver for 24 hours at most
REPLAY_SCOPE = "telegram"


def sender_of(chat_id: int) -> str:
    return f"{SENDER_PREFIX}{chat_id}"


def chat_of(sender_id: str) -> int | None:
    """The chat id in a ``tg:<chat id>`` sender, or None if it is not one."""
    if not sender_id.startswith(SENDER_PREFIX):
        return None
    try:
        return int(sender_id.removeprefix(SENDER_PREFIX))
    except ValueError:
        return None


class RecentUpdates:
    """The ids of the updates taken lately (in the database, shared by every gateway process), to answer
    Telegram's redeliveries without acting twice."""

    def __init__(self, seconds: float = REPLAY_SECONDS) -> None:
        self.seconds = seconds

    async def claim(self, update_id: int) -> bool:
        """True the first time ``update_id`` is seen (and remember it), False for a replay."""
        return await asyncio.to_thread(replay.claim, REPLAY_SCOPE, str(update_id), self.seconds)

    async def release(self, update_id: int) -> None:
        """Forget an update whose handling failed, so Telegram's redelivery is taken."""
        await asyncio.to_thread(replay.release, REPLAY_SCOPE, str(update_id))


class TelegramChannel:
    """One bot: its webhook secret, its Bot API client (open while the app runs) and its sender."""

    def __init__(self, token: str, secret: str, api_url: str, limiter: RateLimiter | None = None) -> None:
        self._token = token
        self._secret = secret.encode()
        self.api_url = api_url
        self.limiter = limiter or RateLimiter()
        self.api: TelegramApi | None = None
        self.recent = RecentUpdates()
        self._parts_sent: OrderedDict[tuple[str, int], int] = OrderedDict()  # long messages cut mid-way

    def secret_matches(self, header: str | None) -> bool:
        return hmac.compare_digest((header or "").encode(), self._secret)

    async def running(self, _app: web.Application) -> AsyncIterator[None]:
        """``app.cleanup_ctx`` entry: the HTTP client to the Bot API."""
        async with aiohttp.ClientSession() as session:
            self.api = TelegramApi(session, self.api_url, self._token, self.limiter)
            yield
            self.api = None

    async def send(self, sender_id: str, message: dict[str, Any]) -> None:
        """The relay's sender: deliver one transcript entry; DeliveryError when it should be retried later."""
        chat_id = chat_of(sender_id)
        if chat_id is None:
            log.error("telegram: %r is not a Telegram sender; message %s dropped", sender_id, message.get("seq"))
            return
        api = self.api
        if api is None:
            raise DeliveryError("the Telegram client is not running")
        key = (sender_id, int(message["seq"]))
        done = self._parts_sent.get(key, 0)
        for part in render(message)[done:]:
            try:
                if part.method == "sendPhoto":
                    await api.send_photo(chat_id, part.photo or "")
                else:
                    await api.send_message(chat_id, part.text or "", part.reply_markup)
            except TelegramUnavailable as exc:
                raise DeliveryError(str(exc)) from exc
            except TelegramRejected as exc:
                if exc.status in (401, 404):  # the token is wrong or revoked: keep the messages for later
                    log.error("telegram refused the bot token (%s); delivery paused", exc.status)
                    raise DeliveryError(f"bot token refused ({exc.status})") from exc
                log.warning("telegram refused message %s for %s (%s); dropped", key[1], sender_id, exc)
                self._parts_sent.pop(key, None)
                return
            done += 1
            self._parts_sent[key] = done
            while len(self._parts_sent) > 1000:
                self._parts_sent.popitem(last=False)
        self._parts_sent.pop(key, None)


telegram_key = web.AppKey("telegram", TelegramChannel)


# -- in -----------------------------------------------------------------------------------------


async def _read_update(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_UPDATE_BYTES:
        raise ApiError(413, "payload_too_large", "请求内容过大")
    raw = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        raw += chunk
        if len(raw) > MAX_UPDATE_BYTES:
            raise ApiError(413, "payload_too_large", "请求内容过大")
    try:
        update = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(400, "invalid_json", "请求内容不是有效的 UTF-8 JSON") from None
    if not isinstance(update, dict):
        raise ApiError(400, "invalid_body", "请求内容必须是 JSON 对象 (Telegram Update)")
    update_id = update.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise ApiError(400, "invalid_update", "缺少 update_id (必须是整数)")
    return update


async def webhook(request: web.Request) -> web.Response:
    channel = request.app[telegram_key]
    if not channel.secret_matches(request.headers.get(SECRET_HEADER)):
        log.warning("telegram webhook: missing or wrong secret token from %s; refused", request.remote)
        raise ApiError(401, "invalid_secret", f"缺少或错误的 {SECRET_HEADER}")
    update = await _read_update(request)
    update_id: int = update["update_id"]
    if not await channel.recent.claim(update_id):
        log.info("telegram update %s is a replay; ignored", update_id)
        return json_response({"ok": True, "ignored": "replay"})
    event = read_update(update)
    try:
        await _handle(request.app, channel, event)
    except Exception:
        await channel.recent.release(update_id)
        raise
    if isinstance(event, Ignored):
        log.info("telegram update %s ignored: %s", update_id, event.reason)
        return json_response({"ok": True, "ignored": event.reason})
    return json_response({"ok": True})


async def _handle(
    app: web.Application, channel: TelegramChannel, event: TextMessage | ButtonPress | Unsupported | Ignored
) -> None:
    if isinstance(event, TextMessage):
        sender = sender_of(event.chat_id)
        text = CONTROL_CHARS.sub("", event.text).strip()
        if text and not await refuse_if_too_long(app, sender, CHANNEL, text, app[settings_key].max_message_chars):
            text = await asyncio.to_thread(choose, sender, text)
            await app[inbox_key].receive(Incoming(sender, text, _metadata(event.name), CHANNEL))
    elif isinstance(event, ButtonPress):
        if channel.api is not None:
            try:
                await channel.api.answer_callback_query(event.callback_id)
            except (TelegramRejected, TelegramUnavailable) as exc:
                log.info("telegram answerCallbackQuery failed (%s); the button keeps spinning a while", exc)
        if event.chat_id is None:
            return
        sender = sender_of(event.chat_id)
        payload = await asyncio.to_thread(_pressed_payload, sender, event.data)
        if payload is None:
            log.info("telegram: button data %r of %s names no button; ignored", event.data[:64], sender)
            return
        await app[inbox_key].receive(Incoming(sender, payload, _metadata(event.name), CHANNEL))
    elif isinstance(event, Unsupported):
        await answer_unsupported(app, sender_of(event.chat_id), CHANNEL, f"[{event.kind}]")


def _metadata(name: str | None) -> dict[str, Any] | None:
    return {"customer": {"name": name}} if name else None


def _pressed_payload(sender: str, data: str) -> str | None:
    """The payload of the button ``data`` (``"<seq>:<index>"``) names in ``sender``'s conversation."""
    place = parse_callback_data(data)
    if place is None:
        return None
    seq, index = place
    with session_scope() as session:
        message = session.scalar(
            select(Message)
            .join(Conversation)
            .where(Conversation.sender_id == sender, Message.seq == seq, Message.author != Author.CUSTOMER)
        )
        buttons = buttons_of(message) if message is not None else []
        return buttons[index]["payload"] if index < len(buttons) else None


# -- wiring --------------------------------------------------------------------------------------


def setup(app: web.Application) -> None:
    """Mount the webhook and register the relay sender when ``GRIDDESK_TELEGRAM_TOKEN`` is set."""
    settings = app[settings_key]
    if not settings.telegram_token:
        return
    if not settings.telegram_secret:
        log.error(
            "GRIDDESK_TELEGRAM_TOKEN is set without GRIDDESK_TELEGRAM_SECRET: the Telegram webhook is "
            "not mounted (every update must carry the secret token)"
        )
        return
    channel = TelegramChannel(
        settings.telegram_token.reveal(), settings.telegram_secret.reveal(), settings.telegram_api_url
    )
    app[telegram_key] = channel
    app.cleanup_ctx.append(channel.running)
    app.router.add_post(WEBHOOK_PATH, webhook)
    app[relay_key].register(CHANNEL, channel.send)
