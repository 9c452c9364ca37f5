"""The WeCom (企业微信) self-built app channel: the callback URL in, the message API out (docs/channels.md).

``GET /webhooks/wecom`` answers WeCom's URL verification (the decrypted ``echostr``). ``POST
/webhooks/wecom`` receives a member's message: the signature over ``<Encrypt>`` is checked, the
request must be fresh (timestamp within ``MAX_AGE_SECONDS``) and its MsgId new (remembered in the database,
:mod:`griddesk.replay`, so a retry reaching another gateway process is recognised too), the message is
decrypted, and WeCom gets an empty 200 at once (it retries after 5 s) while the message goes to the
inbox in the background, in order per member. Text becomes ``Incoming(sender="wecom:<UserID>")``; a
number picks a button of the last outgoing message; other types get a polite reply. Everything said
to the member (bot, agent, system) goes out through the relay and :meth:`WeComChannel.send`.

Forged signature → 401, stale request → 403, malformed XML / base64 / wrong CorpID → 400; never a 500.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from gateway.channels.buttons import choose
from gateway.channels.relay import DeliveryError, relay_key
from gateway.channels.unsupported import answer_unsupported, refuse_if_too_long
from gateway.channels.wecom.api import PermanentSendError, WeComClient
from gateway.channels.wecom.crypto import DecryptError, InvalidSignature, WeComCrypto
from gateway.channels.wecom.text import render, split_text
from gateway.channels.wecom.xml_codec import (
    WeComMessage,
    XmlError,
    encrypted_of,
    parse_message,
)
from gateway.inbox import Incoming, inbox_key
from griddesk import replay
from griddesk.settings import Settings, SettingsError
from griddesk.web.errors import ApiError
from griddesk.web.keys import settings_key

log = logging.getLogger(__name__)

PATH = "/webhooks/wecom"
CHANNEL = "wecom"
SENDER_PREFIX = "wecom:"
MAX_AGE_SECONDS = 300  # a callback older (or further in the future) than this is a replay
REPLAY_SCOPE = "wecom"
# what the transcript shows for a message GridDesk cannot read (agents see it in the console)
UNSUPPORTED_LABELS = {
    "image": "[图片]",
    "voice": "[语音]",
    "video": "[视频]",
    "location": "[位置]",
    "link": "[链接]",
    "file": "[文件]",
    "miniprogram": "[小程序]",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class WeComConfig:
    corp_id: str
    agent_id: int
    secret: str
    token: str
    aes_key: str
    api_url: str


def wecom_config(settings: Settings) -> WeComConfig | None:
    """The app's WeCom settings; None when none is set; SettingsError when only some are, or they are invalid."""
    values = {
        "GRIDDESK_WECOM_CORP_ID": settings.wecom_corp_id,
        "GRIDDESK_WECOM_AGENT_ID": str(settings.wecom_agent_id or ""),
        "GRIDDESK_WECOM_SECRET": settings.wecom_secret.reveal(),
        "GRIDDESK_WECOM_TOKEN": settings.wecom_token.reveal(),
        "GRIDDESK_WECOM_AES_KEY": settings.wecom_aes_key.reveal(),
    }
    missing = [name for name, value in values.items() if not value]
    if len(missing) == len(values):
        return None
    if missing:
        raise SettingsError(f"the WeCom channel needs {', '.join(missing)} as well")
    agent_id = values["GRIDDESK_WECOM_AGENT_ID"]
    if not agent_id.isdigit():
        raise SettingsError(f"GRIDDESK_WECOM_AGENT_ID must be the app's numeric AgentId, got {agent_id!r}")
    return WeComConfig(
        corp_id=settings.wecom_corp_id,
        agent_id=int(agent_id),
        secret=values["GRIDDESK_WECOM_SECRET"],
        token=values["GRIDDESK_WECOM_TOKEN"],
        aes_key=values["GRIDDESK_WECOM_AES_KEY"],
        api_url=settings.wecom_api_url,
    )


class ReplayGuard:
    """Refuses callbacks outside the time window and remembers the MsgIds taken within it (in the database,
    shared by every gateway process)."""

    def __init__(self, max_age: float = MAX_AGE_SECONDS, clock: Callable[[], float] = time.time) -> None:
        self.max_age = max_age
        self.clock = clock

    def is_fresh(self, timestamp: int) -> bool:
        return abs(self.clock() - timestamp) <= self.max_age

    async def first_time(self, msg_id: str) -> bool:
        """True the first time ``msg_id`` is seen within the window (and remembers it)."""
        # a request older than the window is refused as stale, so remembering an id past it is enough
        return await asyncio.to_thread(replay.claim, REPLAY_SCOPE, msg_id, 2 * self.max_age, self.clock())


class WeComChannel:
    """One self-built app: its crypto, replay guard, outgoing client and the members' messages in flight."""

    def __init__(self, app: web.Application, config: WeComConfig) -> None:
        self.app = app
        self.config = config
        self.crypto = WeComCrypto(config.token, config.aes_key, config.corp_id)
        self.replay = ReplayGuard()
        self.client: WeComClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._in_flight: dict[str, int] = {}

    # -- in --------------------------------------------------------------------------------------

    def dispatch(self, message: WeComMessage) -> None:
        """Handle ``message`` in the background, after the member's earlier messages."""
        task = asyncio.create_task(self._in_order(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Wait until every dispatched message has been handled (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _in_order(self, message: WeComMessage) -> None:
        user = message.user_id
        lock = self._locks.setdefault(user, asyncio.Lock())
        self._in_flight[user] = self._in_flight.get(user, 0) + 1
        try:
            async with lock:
                await self._handle(message)
        except Exception:
            log.exception("WeCom message %s from %s could not be handled", message.msg_id, user)
        finally:
            self._in_flight[user] -= 1
            if not self._in_flight[user]:
                del self._in_flight[user], self._locks[user]

    async def _handle(self, message: WeComMessage) -> None:
        sender = SENDER_PREFIX + message.user_id
        if message.msg_type == "event":
            log.debug("WeCom event %r from %s ignored", message.event, sender)
            return
        if message.msg_type != "text":
            label = UNSUPPORTED_LABELS.get(message.msg_type, f"[{message.msg_type[:16]}]")
            await answer_unsupported(self.app, sender, CHANNEL, label)
            return
        text = _CONTROL.sub("", message.content).strip()
        if not text or await refuse_if_too_long(
            self.app, sender, CHANNEL, text, self.app[settings_key].max_message_chars
        ):
            return
        text = await asyncio.to_thread(choose, sender, text)
        await self.app[inbox_key].receive(Incoming(sender=sender, text=text, metadata=None, channel=CHANNEL))

    # -- out -------------------------------------------------------------------------------------

    async def send(self, sender_id: str, message: dict[str, Any]) -> None:
        """The relay's sender: one transcript entry to the member, as one or more text messages."""
        if self.client is None:
            raise DeliveryError("the WeCom client is not running")
        user_id = sender_id.removeprefix(SENDER_PREFIX)
        for piece in split_text(render(message)):
            try:
                await self.client.send_text(user_id, piece)
            except PermanentSendError as exc:
                log.error("WeCom refused message %s for %s (%s); dropped", message.get("seq"), sender_id, exc)
                return

    async def running(self, _app: web.Application) -> AsyncIterator[None]:
        """``app.cleanup_ctx`` entry: the outgoing HTTP client while the gateway runs."""
        async with aiohttp.ClientSession() as session:
            self.client = WeComClient(
                session, self.config.api_url, self.config.corp_id, self.config.agent_id, self.config.secret
            )
            try:
                yield
            finally:
                for task in list(self._tasks):
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)
                self.client = None


wecom_key = web.AppKey("wecom", WeComChannel)


# -- the callback URL ----------------------------------------------------------------------------


def _query(request: web.Request, *names: str) -> list[str]:
    values = [request.query.get(name, "").strip() for name in names]
    if not all(values):
        raise ApiError(400, "missing_parameters", f"缺少参数: {', '.join(n for n, v in zip(names, values) if not v)}")
    return values


def _base64_param(value: str) -> str:
    # a "+" left unescaped in a query string arrives as a space; base64 never contains spaces
    return value.replace(" ", "+")


async def verify_url(request: web.Request) -> web.Response:
    """WeCom's URL verification: answer the decrypted ``echostr`` as plain text."""
    channel = request.app[wecom_key]
    msg_signature, timestamp, nonce, echostr = _query(request, "msg_signature", "timestamp", "nonce", "echostr")
    try:
        plaintext = channel.crypto.verify_and_decrypt(msg_signature, timestamp, nonce, _base64_param(echostr))
    except InvalidSignature:
        raise ApiError(401, "invalid_signature", "签名校验失败") from None
    except DecryptError:
        raise ApiError(400, "invalid_echostr", "echostr 无法解密") from None
    return web.Response(text=plaintext, content_type="text/plain")


async def receive(request: web.Request) -> web.Response:
    """A member's message: checked, acknowledged at once, handled in the background."""
    channel = request.app[wecom_key]
    msg_signature, timestamp, nonce = _query(request, "msg_signature", "timestamp", "nonce")
    if not timestamp.isdigit():
        raise ApiError(400, "invalid_timestamp", "timestamp 必须是整数")
    try:
        encrypted = encrypted_of(await request.read())
    except XmlError:
        raise ApiError(400, "invalid_xml", "请求内容不是有效的企业微信回调 XML") from None
    try:
        channel.crypto.verify(msg_signature, timestamp, nonce, encrypted)
    except InvalidSignature:
        raise ApiError(401, "invalid_signature", "签名校验失败") from None
    if not channel.replay.is_fresh(int(timestamp)):
        raise ApiError(403, "stale_request", "请求已过期")
    try:
        message = parse_message(channel.crypto.decrypt(encrypted))
    except (DecryptError, XmlError):
        raise ApiError(400, "invalid_message", "消息无法解密或解析") from None
    if message.agent_id and message.agent_id != str(channel.config.agent_id):
        log.warning("WeCom callback for agent %s ignored (this app is %s)", message.agent_id, channel.config.agent_id)
    elif message.msg_id and not await channel.replay.first_time(message.msg_id):
        log.info("WeCom message %s received again (a retry or a replay); ignored", message.msg_id)
    else:
        channel.dispatch(message)
    return web.Response(text="", content_type="text/plain")


def setup(app: web.Application) -> None:
    """Mount the WeCom channel and register its relay sender; nothing when the WeCom settings are unset."""
    config = wecom_config(app[settings_key])
    if config is None:
        return
    try:
        channel = WeComChannel(app, config)
    except ValueError as exc:  # the EncodingAESKey or Token is unusable
        raise SettingsError(f"GRIDDESK_WECOM_AES_KEY / GRIDDESK_WECOM_TOKEN: {exc}") from None
    app[wecom_key] = channel
    app.cleanup_ctx.append(channel.running)
    app.router.add_get(PATH, verify_url)
    app.router.add_post(PATH, receive)
    app[relay_key].register(CHANNEL, channel.send)
