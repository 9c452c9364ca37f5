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
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections import OrderedDict, deque
from typing import Any

import socketio
from aiohttp import web
from sqlalchemy import select

from conversations.models import Conversation
from gateway.channels.relay import relay_key
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


class SocketIOChannel:
    """The Socket.IO server of one gateway application and its relay sender."""

    def __init__(self, app: web.Application, sio: socketio.AsyncServer) -> None:
        self.app = app
        self.sio = sio
        self.missed = MissedMessages()
        sio.on("connect", self.on_connect)
        sio.on("session_request", self.on_session_request)
        sio.on("user_uttered", self.on_user_uttered)

    async def on_connect(self, sid: str, environ: dict[str, Any], _auth: object = None) -> bool:
        request = environ.get("aiohttp.request")
        address = client_address(request) if isinstance(request, web.Request) else "unknown"
        await self.sio.save_session(sid, {"address": address})
        log.debug("socket %s connected", sid)
        return True

    async def on_session_request(self, sid: str, data: object = None) -> None:
        legacy = self.app[settings_key].legacy_sender_ids
        requested = valid_session_id(data.get("session_id"), legacy) if isinstance(data, dict) else None
        session_id = await self._join(sid, requested)
        await self.sio.emit("session_confirm", session_id, to=sid)
        for utterance in self.missed.take(session_id):
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
        """The relay's sender: one transcript entry to every socket of the session.

        Presence is this process's view (python-socketio's in-memory manager). Several gateway replicas
        need sticky sessions and a pub/sub client manager (DESIGN.md, scale-out); then emit unconditionally.
        """
        utterances = bot_utterances(message)
        if not utterances:
            return
        if not any(True for _ in self.sio.manager.get_participants("/", sender_id)):
            self.missed.keep(sender_id, utterances)
            return
        for utterance in utterances:
            await self.sio.emit(BOT_EVENT, utterance, room=sender_id)

    async def shutdown(self, _app: web.Application) -> None:
        for sid in [sid for sid, _eio in self.sio.manager.get_participants("/", None)]:
            await self.sio.disconnect(sid)
        await self.sio.shutdown()

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
        await self.sio.enter_room(sid, session_id)
        async with self.sio.session(sid) as session:
            session["session_id"] = session_id
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
    """Serve the Socket.IO channel at ``/socket.io/`` and register it with the relay (call after the relay is set)."""
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        cors_allowed_origins=cors_policy(app[settings_key].widget_origins),
        max_http_buffer_size=MAX_PACKET_BYTES,
        logger=False,
        engineio_logger=False,
    )
    channel = SocketIOChannel(app, sio)
    sio.attach(app, socketio_path=PATH)
    app[socketio_key] = channel
    app[relay_key].register(CHANNEL, channel.send)
    app.on_shutdown.append(channel.shutdown)
