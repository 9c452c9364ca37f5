"""Rasa's Socket.IO channel protocol, spoken to customers at ``/socket.io/``.

Existing Rasa web widgets (rasa-webchat, socket.io-client 3) work unchanged, as against Rasa 3.6's
own ``socketio`` channel with ``session_persistence: true``:

- ``session_request {session_id?}`` → ``session_confirm <session_id>`` (a new one when absent or
  unusable); the socket joins the room named after the session, so a reload that asks for the same
  id continues the same conversation.
- ``user_uttered {message, session_id, customData?}`` → ``Inbox.receive`` with ``sender`` = the
  session id, ``metadata`` = ``customData`` (or Rasa's ``metadata``), ``channel`` = ``socketio``.
- Every bot, agent and system message reaches the widget as ``bot_uttered`` through the relay
  (``gateway.channels.relay``), in Rasa's socketio shapes: ``{"text"}``, ``{"text", "quick_replies"}``,
  ``{"attachment": …}``, custom payloads as they are. The inbox's replies are not emitted here, so
  nothing is said twice.

Bad input never reaches the inbox: it is ignored or answered politely on that socket only. Messages count
against the customer limits as the REST channel's do (by the address the socket connected from); one over
them is answered 「请求过于频繁，请稍后再试。」 on that socket and goes nowhere.

Several gateway processes (``GRIDDESK_REDIS_URL``): python-socketio's ``AsyncRedisManager`` carries every emit
to the process holding the socket, and :class:`SharedSessions` keeps in Redis which sessions have a socket in
some live process and what was relayed while none had (:class:`LocalSessions` keeps both in memory otherwise).
The Engine.IO long-polling transport needs every request of one socket at the same process: a load balancer
in front of several gateways keeps a client on one of them (sticky by address or cookie), or clients use the
websocket transport only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from typing import Any

import socketio
from aiohttp import web
from redis import asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy import select

from conversations.models import Conversation
from gateway.channels.relay import DeliveryError, relay_key
from gateway.inbox import Incoming, inbox_key
from gateway.origins import ANY, origin_allowed, request_schemes, widget_sites
from griddesk.db import session_scope
from griddesk.fields import CONTROL_CHARS
from griddesk.web.errors import ApiError
from griddesk.web.keys import settings_key
from griddesk.web.params import is_random_id
from griddesk.web.ratelimit import RATE_LIMITED_MESSAGE, client_address
from handoff import messages

log = logging.getLogger(__name__)

CHANNEL = "socketio"
PATH = "socket.io"
BOT_EVENT = "bot_uttered"
MAX_PACKET_BYTES = 64 * 1024  # one Socket.IO packet; a longer one closes that connection
MAX_METADATA_CHARS = 4096
MISSED_TTL_SECONDS = 600.0  # messages for a widget that is reconnecting (a page reload) wait this long
MISSED_PER_SESSION = 50
MISSED_SESSIONS = 5000
REDIS_PREFIX = "griddesk:socketio:"
ALIVE_SECONDS = 30  # a process's sockets count as connected while its heartbeat key lives
HEARTBEAT_SECONDS = 10.0
ROOM_SECONDS = 24 * 3600  # a session's socket list outlives no one: it expires a day after its last join
# with GRIDDESK_LEGACY_SENDER_IDS; otherwise a random id (griddesk.web.params.is_random_id). Never a tg:/wecom: sender.
_LEGACY_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")

Utterance = dict[str, Any]


def bot_utterances(message: dict[str, Any]) -> list[Utterance]:
    """A transcript entry (``message_dict``) as the ``bot_uttered`` events Rasa's socketio channel emits.

    Text is split at blank lines as Rasa does; buttons ride on the last part as ``quick_replies``.
    GridDesk's own custom payloads (``{"griddesk": …}``) are never sent.
    """
    raw_payload = message.get("payload")
    payload: dict[str, Any] = raw_payload if isinstance(raw_payload, dict) else {}
    text = payload.get("text") if isinstance(payload.get("text"), str) else message.get("text")
    utterances: list[Utterance] = []
    if isinstance(text, str) and text.strip():
        parts = [part for part in text.strip().split("\n\n") if part.strip()] or [text.strip()]
        utterances.extend({"text": part} for part in parts)
        replies = _quick_replies(payload.get("buttons"))
        if replies:
            utterances[-1]["quick_replies"] = replies
    image = payload.get("image")
    if isinstance(image, str) and image:
        utterances.append({"attachment": {"type": "image", "payload": {"src": image}}})
    attachment = payload.get("attachment")
    if isinstance(attachment, dict):
        utterances.append({"attachment": attachment})
    elements = payload.get("elements")
    if isinstance(elements, list):
        utterances.extend(
            {"attachment": {"type": "template", "payload": {"template_type": "generic", "elements": e}}}
            for e in elements
        )
    custom = payload.get("custom")
    if isinstance(custom, dict) and custom and "griddesk" not in custom:
        utterances.append(custom)
    return utterances


def _quick_replies(buttons: object) -> list[dict[str, str]]:
    if not isinstance(buttons, list):
        return []
    replies = []
    for button in buttons:
        if isinstance(button, dict) and isinstance(button.get("title"), str):
            payload = button.get("payload")
            replies.append(
                {
                    "content_type": "text",
                    "title": button["title"],
                    "payload": payload if isinstance(payload, str) else button["title"],
                }
            )
    return replies


def valid_session_id(value: object, legacy: bool = False) -> str | None:
    """A session id a client may ask for: a random id (uuid hex as Rasa makes it); with ``legacy``, 1–128
    characters of ``A–Z a–z 0–9 _ -``. Anything else gets a new id."""
    if not isinstance(value, str):
        return None
    usable = _LEGACY_SESSION_ID.fullmatch(value) if legacy else is_random_id(value)
    return value if usable else None


def metadata_of(data: dict[str, Any]) -> dict[str, Any] | None:
    """rasa-webchat's ``customData``, or Rasa's ``metadata`` (an object or its JSON text); small objects only."""
    raw = data.get("customData", data.get("metadata"))
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return None
    if not isinstance(raw, dict) or len(json.dumps(raw, ensure_ascii=False)) > MAX_METADATA_CHARS:
        return None
    return raw


def cors_policy(widget_origins: str) -> Any:
    """``cors_allowed_origins`` for the widget origins setting (``gateway.origins``): ``*`` = any; otherwise
    the configured sites and the gateway itself; no Origin header (not a browser) is allowed."""
    if ANY in widget_sites(widget_origins):
        return ANY

    def allow(origin: str | None, environ: dict[str, Any]) -> bool:
        return origin_allowed(
            origin,
            host=str(environ.get("HTTP_HOST", "")),
            schemes=request_schemes(str(environ.get("wsgi.url_scheme", "http"))),
            widget_origins=widget_origins,
        )

    return allow


def _channel_of(session_id: str) -> str | None:
    with session_scope() as session:
        return session.scalar(select(Conversation.channel).where(Conversation.sender_id == session_id))


class MissedMessages:
    """What was relayed while a session had no open socket (a reload, a network blip), for a short while.

    Only a convenience for reconnecting widgets; the transcript stays the record.
    """

    def __init__(self) -> None:
        self._by_session: OrderedDict[str, deque[tuple[float, Utterance]]] = OrderedDict()

    def keep(self, session_id: str, utterances: list[Utterance]) -> None:
        queue = self._by_session.pop(session_id, None) or deque(maxlen=MISSED_PER_SESSION)
        now = time.monotonic()
        queue.extend((now, u) for u in utterances)
        self._by_session[session_id] = queue
        while len(self._by_session) > MISSED_SESSIONS:
            self._by_session.popitem(last=False)

    def take(self, session_id: str) -> list[Utterance]:
        queue = self._by_session.pop(session_id, None) or deque()
        oldest = time.monotonic() - MISSED_TTL_SECONDS
        return [u for kept_at, u in queue if kept_at >= oldest]


class LocalSessions:
    """One gateway process: python-socketio's in-memory rooms tell who is connected; missed messages in memory."""

    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio
        self.missed = MissedMessages()

    async def joined(self, sid: str, session_id: str) -> None:
        """The socket ``sid`` has entered the room ``session_id`` (python-socketio's rooms are enough here)."""

    async def left(self, sid: str, session_id: str) -> None:
        """The socket ``sid`` has left the room ``session_id`` (or disconnected)."""

    async def connected_or_keep(self, session_id: str, utterances: list[Utterance]) -> bool:
        """True if a socket of the session is connected (emit to its room); otherwise keep the utterances for
        its next ``session_request`` and return False. No await between the check and the keeping."""
        if any(True for _ in self.sio.manager.get_participants("/", session_id)):
            return True
        self.missed.keep(session_id, utterances)
        return False

    async def take_missed(self, session_id: str) -> list[Utterance]:
        return self.missed.take(session_id)

    async def run(self) -> AsyncIterator[None]:
        yield


# KEYS[1]: the session's socket set, KEYS[2]: its missed list; ARGV[1]: the heartbeat key prefix, ARGV[2]: the
# missed list's lifetime (s), ARGV[3]: its length, ARGV[4…]: utterances. 1 = some live process has a socket of the
# session (emit to its room); else the utterances are kept and 0. Atomic: a join cannot fall between.
CONNECTED_OR_KEEP = """
for _, member in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local process = string.match(member, '^(%S+) ')
  if process and redis.call('EXISTS', ARGV[1] .. process) == 1 then return 1 end
  redis.call('SREM', KEYS[1], member)
end
for i = 4, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 0
"""


class SharedSessions:
    """Several gateway processes: which sessions have a socket (a set of ``<process> <sid>`` per session, trusted
    while that process's heartbeat key lives) and what was relayed while none had (a list per session), in Redis.

    A process that stops deletes its heartbeat; one that dies stops renewing it, and its sockets stop counting
    after ``ALIVE_SECONDS``."""

    def __init__(self, url: str) -> None:
        self.redis = aioredis.Redis.from_url(url)
        self.process = uuid.uuid4().hex
        self._connected_or_keep = self.redis.register_script(CONNECTED_OR_KEEP)

    @staticmethod
    def _room(session_id: str) -> str:
        return f"{REDIS_PREFIX}room:{session_id}"

    @staticmethod
    def _missed(session_id: str) -> str:
        return f"{REDIS_PREFIX}missed:{session_id}"

    def _alive(self) -> str:
        return f"{REDIS_PREFIX}alive:{self.process}"

    async def joined(self, sid: str, session_id: str) -> None:
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.sadd(self._room(session_id), f"{self.process} {sid}")
                pipe.expire(self._room(session_id), ROOM_SECONDS)
                await pipe.execute()
        except RedisError as exc:  # relayed messages wait for its next session_request instead
            log.warning("socket presence not shared (Redis: %s)", exc)

    async def left(self, sid: str, session_id: str) -> None:
        try:
            await self.redis.srem(self._room(session_id), f"{self.process} {sid}")
        except RedisError as exc:
            log.warning("socket presence not cleared (Redis: %s); it lapses with this process's heartbeat", exc)

    async def connected_or_keep(self, session_id: str, utterances: list[Utterance]) -> bool:
        kept = [json.dumps([time.time(), utterance], ensure_ascii=False) for utterance in utterances]
        try:
            found = await self._connected_or_keep(
                keys=[self._room(session_id), self._missed(session_id)],
                args=[f"{REDIS_PREFIX}alive:", int(MISSED_TTL_SECONDS), MISSED_PER_SESSION, *kept],
            )
        except RedisError as exc:  # the relay gives the message back and tries again later
            raise DeliveryError(f"Redis: {exc}") from exc
        return bool(found)

    async def take_missed(self, session_id: str) -> list[Utterance]:
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.lrange(self._missed(session_id), 0, -1)
                pipe.delete(self._missed(session_id))
                kept, _deleted = await pipe.execute()
        except RedisError as exc:
            log.warning("messages kept for a reconnecting widget not read (Redis: %s)", exc)
            return []
        oldest = time.time() - MISSED_TTL_SECONDS
        utterances = []
        for raw in kept:
            try:
                kept_at, utterance = json.loads(raw)
            except (TypeError, ValueError):
                continue
            if isinstance(kept_at, (int, float)) and kept_at >= oldest and isinstance(utterance, dict):
                utterances.append(utterance)
        return utterances

    async def _heartbeat(self) -> None:
        while True:
            try:
                await self.redis.set(self._alive(), "1", ex=ALIVE_SECONDS)
            except RedisError as exc:
                log.warning("Socket.IO heartbeat not written (Redis: %s); retrying", exc)
            await asyncio.sleep(HEARTBEAT_SECONDS)

    async def run(self) -> AsyncIterator[None]:
        """The heartbeat while the application runs; at the end this process's sockets stop counting at once."""
        with contextlib.suppress(RedisError):
            await self.redis.set(self._alive(), "1", ex=ALIVE_SECONDS)
        beating = asyncio.create_task(self._heartbeat(), name="socket.io heartbeat")
        try:
            yield
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
            with contextlib.suppress(RedisError, OSError):
                await self.redis.delete(self._alive())
            await self.redis.aclose()


Sessions = LocalSessions | SharedSessions


class SocketIOChannel:
    """The Socket.IO server of one gateway application and its relay sender."""

    def __init__(self, app: web.Application, sio: socketio.AsyncServer, sessions: Sessions | None = None) -> None:
        self.app = app
        self.sio = sio
        self.sessions: Sessions = sessions or LocalSessions(sio)
        sio.on("connect", self.on_connect)
        sio.on("disconnect", self.on_disconnect)
        sio.on("session_request", self.on_session_request)
        sio.on("user_uttered", self.on_user_uttered)

    async def on_connect(self, sid: str, environ: dict[str, Any], _auth: object = None) -> bool:
        request = environ.get("aiohttp.request")
        address = client_address(request) if isinstance(request, web.Request) else "unknown"
        await self.sio.save_session(sid, {"address": address})
        log.debug("socket %s connected", sid)
        return True

    async def on_disconnect(self, sid: str, _reason: object = None) -> None:
        session_id = (await self.sio.get_session(sid)).get("session_id")
        if session_id:
            await self.sessions.left(sid, session_id)

    async def on_session_request(self, sid: str, data: object = None) -> None:
        legacy = self.app[settings_key].legacy_sender_ids
        requested = valid_session_id(data.get("session_id"), legacy) if isinstance(data, dict) else None
        session_id = await self._join(sid, requested)
        await self.sio.emit("session_confirm", session_id, to=sid)
        for utterance in await self.sessions.take_missed(session_id):
            await self.sio.emit(BOT_EVENT, utterance, to=sid)

    async def on_user_uttered(self, sid: str, data: object = None) -> None:
        if not isinstance(data, dict):
            return
        session_id = await self._session_of(sid, data)
        if session_id is None:
            log.info("socket %s sent a message without a usable session; ignored", sid)
            return
        text = data.get("message")
        if text is None:
            return
        if not isinstance(text, str):
            await self._tell(sid, messages.UNSUPPORTED_MESSAGE)
            return
        text = CONTROL_CHARS.sub("", text).strip()
        if not text:
            return
        max_chars = self.app[settings_key].max_message_chars
        if len(text) > max_chars:
            await self._tell(sid, messages.message_too_long(max_chars))
            return
        address = (await self.sio.get_session(sid)).get("address", "unknown")
        incoming = Incoming(session_id, text, metadata_of(data), CHANNEL, address=address)
        try:
            await self.app[inbox_key].receive(incoming)
        except Exception as exc:
            if isinstance(exc, ApiError) and exc.status == 429:  # over a customer limit: nothing was recorded
                await self._tell(sid, RATE_LIMITED_MESSAGE)
                return
            log.exception("a Socket.IO customer message could not be handled")
            await self._tell(sid, messages.BOT_UNAVAILABLE)

    async def send(self, sender_id: str, message: dict[str, Any]) -> None:
        """The relay's sender: one transcript entry to every socket of the session, in whichever gateway
        process it is connected (kept for the widget's next ``session_request`` when none is)."""
        utterances = bot_utterances(message)
        if not utterances:
            return
        if not await self.sessions.connected_or_keep(sender_id, utterances):
            return
        for utterance in utterances:
            await self.sio.emit(BOT_EVENT, utterance, room=sender_id)

    async def shutdown(self, _app: web.Application) -> None:
        for sid in [sid for sid, _eio in self.sio.manager.get_participants("/", None)]:
            await self.sio.disconnect(sid)
        await self.sio.shutdown()
        listener = getattr(self.sio.manager, "thread", None)  # the Redis manager's listening task
        if isinstance(listener, asyncio.Future):
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        redis = getattr(self.sio.manager, "redis", None)
        if redis is not None:
            with contextlib.suppress(RedisError, OSError):
                await redis.aclose()

    async def running(self, _app: web.Application) -> AsyncIterator[None]:
        """``app.cleanup_ctx`` entry: with several processes, the manager listens from the start (not from this
        process's first socket on: an emit from another process must find it listening) and the heartbeat."""
        if isinstance(self.sio.manager, socketio.AsyncRedisManager) and not self.sio.manager_initialized:
            self.sio.manager_initialized = True
            self.sio.manager.initialize()
        async for _ in self.sessions.run():
            yield

    # -- sessions -------------------------------------------------------------------------

    async def _join(self, sid: str, requested: str | None) -> str:
        """Put the socket in its session's room: the requested one if it is a Socket.IO conversation."""
        session_id = requested
        if session_id is not None and await asyncio.to_thread(_channel_of, session_id) not in (None, CHANNEL):
            session_id = None  # another channel's conversation: never shared
        session_id = session_id or uuid.uuid4().hex
        previous = (await self.sio.get_session(sid)).get("session_id")
        if previous and previous != session_id:
            await self.sio.leave_room(sid, previous)
            await self.sessions.left(sid, previous)
        await self.sio.enter_room(sid, session_id)
        async with self.sio.session(sid) as session:
            session["session_id"] = session_id
        await self.sessions.joined(sid, session_id)  # after entering the room: an emit from now on reaches it
        return session_id

    async def _session_of(self, sid: str, data: dict[str, Any]) -> str | None:
        """The socket's confirmed session; a client that skipped ``session_request`` joins the one it names."""
        confirmed = (await self.sio.get_session(sid)).get("session_id")
        named = data.get("session_id")
        if confirmed is not None:
            return confirmed if named in (None, confirmed) else None
        requested = valid_session_id(named, self.app[settings_key].legacy_sender_ids)
        if requested is None:
            return None
        joined = await self._join(sid, requested)
        return joined if joined == requested else None

    async def _tell(self, sid: str, text: str) -> None:
        await self.sio.emit(BOT_EVENT, {"text": text}, to=sid)


socketio_key = web.AppKey("socketio_channel", SocketIOChannel)


def setup(app: web.Application) -> None:
    """Serve the Socket.IO channel at ``/socket.io/`` and register it with the relay (call after the relay is set);
    with ``GRIDDESK_REDIS_URL``, across gateway processes."""
    redis_url = app[settings_key].redis_url
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=socketio.AsyncRedisManager(redis_url, channel=f"{REDIS_PREFIX}emit") if redis_url else None,
        cors_allowed_origins=cors_policy(app[settings_key].widget_origins),
        max_http_buffer_size=MAX_PACKET_BYTES,
        logger=False,
        engineio_logger=False,
    )
    channel = SocketIOChannel(app, sio, SharedSessions(redis_url) if redis_url else None)
    sio.attach(app, socketio_path=PATH)
    app[socketio_key] = channel
    app[relay_key].register(CHANNEL, channel.send)
    app.cleanup_ctx.append(channel.running)
    app.on_shutdown.append(channel.shutdown)
