"""Every customer message, from any channel, comes in here: recorded, then answered by its owner.

The ownership state machine decides who answers (DESIGN.md, "Conversation ownership"):
``bot`` → Rasa answers; ``queued`` → the gateway answers with the queue status; ``human`` → nobody
here answers (the agent does, from the console); ``closed`` → a new message reopens the conversation
to the bot. A handoff packet in Rasa's reply moves the conversation to a grid's queue. Channels
(REST, Socket.IO, messaging apps) only translate to and from ``receive``.

Who the customer is comes from here too (DESIGN.md "Customer identity"): a proof the embedding site
signed (``customers.identity``) links the conversation to a customer record; Rasa is told only that
verified customer, under ``metadata.griddesk_customer``, which the gateway always writes itself.

A message from the web carries the client's address: it is counted against the customer limits
(``griddesk.web.ratelimit``) before anything is recorded — messages per address and per conversation,
and a request for a person (转人工) per address — and refused with ``429 rate_limited`` when over. The
bot's own escalations (misses, complaints) count against the same handoff limit when they would queue.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations.keys import bind_key
from conversations.live import publish_messages
from conversations.models import Author, Conversation, Message, MessageStatus, Owner
from conversations.notices import system_reply
from conversations.rating_tokens import rating_token_of, without_rating_token
from conversations.transcript import (
    BUTTON_KEY,
    append_messages,
    button_title,
    get_or_create_conversation,
    set_status,
)
from customers.identity import (
    BOT_METADATA_KEY,
    CUSTOMER_KEY,
    MAX_NAME_CHARS,
    TOKEN_KEY,
    IdentityRejected,
    VerifiedCustomer,
    verify_identity,
)
from customers.service import bot_facts, identify
from gateway.rasa_client import BotUnavailable, rasa_key
from griddesk.clients import client_id
from griddesk.db import run_in_session, utcnow
from griddesk.text import normalize_utterance
from griddesk.web.errors import ApiError
from griddesk.web.keys import settings_key
from griddesk.web.ratelimit import customer_limits, enforce
from handoff import messages
from handoff.live import publish_queue_change, publish_status
from handoff.ownership import HandoffNotFound, OwnershipError
from handoff.packet import PacketError, parse_packet
from handoff.queue import Enqueued, customer_leaves, queue_status, reopen, request_handoff
from handoff.rating import AlreadyRated, InvalidRating, InvalidRatingToken, rate
from handoff.triggers import wants_human

log = logging.getLogger(__name__)

Reply = dict[str, Any]
# metadata key under which Rasa (and the action server) get a message as the customer typed it
TYPED_KEY = "typed"
_RATE = re.compile(r"^/griddesk_rate(\{.*\})$")


class Control(Enum):
    """Buttons the gateway itself offers; their payloads never reach the bot."""

    KEEP_WAITING = messages.KEEP_WAITING
    LEAVE_MESSAGE = messages.LEAVE_MESSAGE
    BACK_TO_BOT = messages.BACK_TO_BOT_PAYLOAD
    RATE = "/griddesk_rate"


def parse_control(text: str) -> tuple[Control | None, int | None]:
    """The control a message carries, with the score of a rating payload."""
    for control in (Control.KEEP_WAITING, Control.LEAVE_MESSAGE, Control.BACK_TO_BOT):
        if text == control.value:
            return control, None
    match = _RATE.match(text)
    if match:
        try:
            score = json.loads(match.group(1)).get("score")
        except (json.JSONDecodeError, AttributeError):
            score = None
        return Control.RATE, score if isinstance(score, int) and not isinstance(score, bool) else None
    return None, None


@dataclass(frozen=True)
class Incoming:
    sender: str
    text: str
    metadata: dict[str, Any] | None
    channel: str = "rest"
    # the web client's address (griddesk.web.ratelimit.client_address): set, the customer limits apply;
    # messaging apps leave it unset (their platform is the peer, and it keeps its own limits). Only its keyed
    # hash reaches Rasa (griddesk/clients.py)
    address: str | None = None
    # our chat page's first message: bind the conversation to this key's hash (conversations.keys) in the same
    # transaction that records the message, so a message refused (rate limits, a key already bound) binds nothing
    key_hash: str | None = None


def asks_for_person(text: str) -> bool:
    """A customer's own 转人工 (not a control payload): the bot gets ``/request_human``."""
    return parse_control(text)[0] is None and wants_human(text)


def bot_input(text: str) -> tuple[str, dict[str, str]]:
    """What Rasa is sent for a customer's message while the bot owns the conversation, and what the
    gateway adds to its metadata: 留言 opens the ticket form, anything else as ``for_the_bot`` says."""
    if parse_control(text)[0] is Control.LEAVE_MESSAGE:
        return "/create_ticket", {}
    return for_the_bot(text)


@dataclass
class Outcome:
    """What to send back on the customer's channel, and which transcript entries it wrote."""

    replies: list[Reply] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)
    degraded: bool = False


def claimed_name(metadata: dict[str, Any] | None) -> str | None:
    """The name an anonymous customer's client gives (``metadata.customer.name``, a messaging app's display
    name): shown to agents as unverified, never used for routing or pre-fill."""
    customer = (metadata or {}).get(CUSTOMER_KEY)
    name = customer.get("name") if isinstance(customer, dict) else None
    if not isinstance(name, str):
        return None
    return name.strip()[:MAX_NAME_CHARS] or None


def bot_metadata(metadata: dict[str, Any] | None, customer: dict[str, object]) -> dict[str, Any]:
    """What Rasa gets: the client's metadata without its identity claims or proofs, and the verified
    customer (``{}`` = anonymous) under the key the gateway always writes, so no client can set it."""
    passed = {
        key: value
        for key, value in (metadata or {}).items()
        if key not in (CUSTOMER_KEY, TOKEN_KEY, BOT_METADATA_KEY, TYPED_KEY)
    }
    passed[BOT_METADATA_KEY] = customer
    return passed


def as_shown(session: Session, conversation_id: int, text: str) -> tuple[str, dict[str, object] | None]:
    """What the transcript keeps of a customer's message: a button's payload as the button's title (the
    payload under ``BUTTON_KEY``), so every channel and console shows what the customer chose; typed text
    as it is."""
    if not text.startswith("/"):
        return text, None
    title = button_title(session, conversation_id, text) or messages.BUTTON_TITLES.get(text)
    return (title, {BUTTON_KEY: text}) if title else (text, None)


@dataclass(frozen=True)
class Recorded:
    conversation_id: int
    message: Message
    owner: Owner
    customer: dict[str, object] = field(default_factory=dict)  # the verified customer, as Rasa is told


def _record_incoming(
    session: Session, incoming: Incoming, verified: VerifiedCustomer | None, now: datetime, text: str
) -> Recorded:
    if incoming.key_hash is not None:
        bind_key(session, incoming.sender, incoming.key_hash, incoming.channel)
    conversation = get_or_create_conversation(session, incoming.sender, incoming.channel)
    customer = identify(session, conversation, verified, now)
    name = claimed_name(incoming.metadata) if conversation.customer_id is None else None
    if name and conversation.profile.get("name") != name:
        conversation.profile = {"name": name}
    conversation.customer_seen_at = now
    text, pressed = as_shown(session, conversation.id, text)  # a rating's token is already stripped from ``text``
    [message] = append_messages(session, conversation.id, [(Author.CUSTOMER, text, pressed, MessageStatus.RECEIVED)])
    session.expunge(message)
    return Recorded(conversation.id, message, Owner(conversation.owner), bot_facts(customer))


def _record_replies(
    session: Session,
    conversation_id: int,
    answered: Message | None,
    replies: list[Reply],
    author: Author,
    status: MessageStatus = MessageStatus.ANSWERED,
    only_if_owner: Owner | None = None,
) -> list[Message] | None:
    """Store what is sent back; with ``only_if_owner``, store (and send) nothing unless that is still the owner."""
    if only_if_owner is not None:
        owner = session.scalar(select(Conversation.owner).where(Conversation.id == conversation_id))
        if owner != only_if_owner:
            return None
    if answered is not None:
        set_status(session, answered.id, status)
    stored = append_messages(
        session,
        conversation_id,
        [(author, r.get("text") if isinstance(r.get("text"), str) else None, r, MessageStatus.SENT) for r in replies],
    )
    for message in stored:
        session.expunge(message)
    return stored


def split_handoff(replies: list[Reply]) -> tuple[list[Reply], list[object]]:
    """Take the action server's handoff packets out of Rasa's reply: customers never see them."""
    visible: list[Reply] = []
    packets: list[object] = []
    for reply in replies:
        custom = reply.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("griddesk"), dict) and "handoff" in custom["griddesk"]:
            packets.append(custom["griddesk"]["handoff"])
        else:
            visible.append(reply)
    return visible, packets


def for_the_bot(text: str) -> tuple[str, dict[str, str]]:
    """What Rasa is sent for a customer's message, and what the gateway adds to its metadata.

    A button's payload (``/choose_faq{…}``) goes as it is. Typed text goes in the form the NLU was
    trained on (``normalize_utterance``: Simplified, half-width, 啊啊啊 and ！！！ folded), with what the
    customer typed in ``metadata.typed`` (the ticket form keeps descriptions as written); a request
    for a person (``wants_human``) goes as ``/request_human``. The transcript keeps what was typed.
    """
    if text.startswith("/"):
        return text, {}
    said = normalize_utterance(text)
    if wants_human(said):
        return "/request_human", {}
    if said == text:
        return said, {}
    return said, {TYPED_KEY: text}


class Inbox:
    """Receives customer messages for one gateway application."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        settings = app.get(settings_key)
        configured = settings.client_key.reveal() if settings is not None else ""
        self._client_key = configured.encode() if configured else secrets.token_bytes(32)

    def verified_customer(self, incoming: Incoming, now: datetime) -> VerifiedCustomer | None:
        """The customer the message's metadata proves; a proof that fails is logged and ignored (anonymous)."""
        secrets = [secret.reveal() for secret in self.app[settings_key].identity_secrets]
        try:
            return verify_identity(incoming.metadata, secrets, now.timestamp())
        except IdentityRejected as exc:
            log.warning("customer identity of %s ignored (%s): %s", incoming.sender, exc.code, exc.message)
            return None

    async def receive(self, incoming: Incoming) -> Outcome:
        """Record the message and answer it; ``ApiError`` 429 (nothing recorded) when a web client is over a limit."""
        if incoming.address is not None:
            await self._admit(incoming.address, incoming)
        now = utcnow()
        control, score = parse_control(incoming.text)
        verified = self.verified_customer(incoming, now)
        # a rating's one-time token is checked, never kept: staff read the transcript
        text = without_rating_token(incoming.text) if control is Control.RATE else incoming.text
        recorded = await run_in_session(lambda session: _record_incoming(session, incoming, verified, now, text))
        publish_messages(self.app, recorded.conversation_id, [recorded.message])
        owner = recorded.owner

        if owner is Owner.CLOSED:
            if control is Control.RATE:
                return await self._rate(incoming, recorded, score, rating_token_of(incoming.text))
            await run_in_session(lambda session: reopen(session, incoming.sender, now))
            owner = Owner.BOT

        if owner in (Owner.QUEUED, Owner.HUMAN):
            return await self._while_humans_own(incoming, recorded, owner, control, now)

        if control is not None and control is not Control.LEAVE_MESSAGE:
            return await self._say(incoming, recorded, [system_reply(incoming.sender, messages.BOT_IS_SERVING)])
        # messages left unanswered while the bot was down are answered first, in order (gateway/recovery.py)
        if not await self.app[follow_up_key](recorded.conversation_id):
            return await self._unavailable(incoming, recorded)
        return await self._ask_bot(incoming, recorded, *bot_input(incoming.text))

    async def _admit(self, address: str, incoming: Incoming) -> None:
        limits = customer_limits(self.app)
        checks = limits.messages(address, incoming.sender)
        if asks_for_person(incoming.text):
            checks += limits.handoffs(address)
        await enforce(checks)

    # -- the states ---------------------------------------------------------------------------

    async def _while_humans_own(
        self, incoming: Incoming, recorded: Recorded, owner: Owner, control: Control | None, now: datetime
    ) -> Outcome:
        if control in (Control.BACK_TO_BOT, Control.LEAVE_MESSAGE):
            try:
                left = await run_in_session(
                    lambda session: customer_leaves(
                        session, incoming.sender, now, to_ticket=control is Control.LEAVE_MESSAGE
                    )
                )
            except OwnershipError:  # the agent closed or handed back at the same moment: nothing to leave
                left = None
            await publish_queue_change(self.app, None)
            await publish_status(self.app, incoming.sender, recorded.conversation_id)
            if left is not None and control is Control.LEAVE_MESSAGE:
                return await self._ask_bot(incoming, recorded, "/create_ticket")
            return await self._say(incoming, recorded, [system_reply(incoming.sender, messages.BACK_TO_BOT)])
        if owner is Owner.HUMAN:
            # The agent answers from the console; nothing is said here. The console is told.
            await publish_queue_change(self.app, None, chats_only=True)
            return Outcome(seqs=[recorded.message.seq])
        status = await run_in_session(lambda session: queue_status(session, incoming.sender, now))
        text = messages.still_queued(status.position, status.eta_seconds)
        return await self._say(
            incoming,
            recorded,
            [system_reply(incoming.sender, text, messages.QUEUE_BUTTONS)],
            status=MessageStatus.RECEIVED,
        )

    async def _ask_bot(
        self, incoming: Incoming, recorded: Recorded, text: str, added: dict[str, str] | None = None
    ) -> Outcome:
        try:
            return await self.bot_turn(incoming, recorded, text, added)
        except BotUnavailable as exc:
            log.warning("bot unavailable for a customer message (kept as unanswered): %s", exc)
            return await self._unavailable(incoming, recorded)

    async def _unavailable(self, incoming: Incoming, recorded: Recorded) -> Outcome:
        """The customer is told the bot is away; the message waits as ``unanswered`` for the follow-up."""
        outcome = await self._say(
            incoming,
            recorded,
            [system_reply(incoming.sender, messages.BOT_UNAVAILABLE)],
            status=MessageStatus.UNANSWERED,
        )
        outcome.degraded = True
        return outcome

    async def bot_turn(
        self, incoming: Incoming, recorded: Recorded, text: str, added: dict[str, str] | None = None
    ) -> Outcome:
        """One turn of the bot for a recorded message: Rasa's replies stored, published and returned, an
        escalation queued. Raises ``BotUnavailable`` (nothing stored) when Rasa does not answer."""
        return await self.deliver(incoming, recorded, await self.ask(incoming, recorded, text, added))

    async def ask(
        self, incoming: Incoming, recorded: Recorded, text: str, added: dict[str, str] | None = None
    ) -> list[Reply]:
        """Rasa's replies to a recorded message (nothing stored); ``BotUnavailable`` when it does not answer.
        ``added``: what the gateway adds to the metadata (``for_the_bot``)."""
        client = client_id(incoming.address, self._client_key)
        metadata = {**bot_metadata(incoming.metadata, recorded.customer), **(added or {})}
        replies = await self.app[rasa_key].send(incoming.sender, text, metadata, client)
        if not replies:
            raise BotUnavailable("Rasa produced no reply")
        return replies

    async def deliver(self, incoming: Incoming, recorded: Recorded, replies: list[Reply]) -> Outcome:
        """Store, publish and return the bot's replies to a recorded message; queue its escalation."""
        visible, packets = split_handoff(replies)
        stored = await run_in_session(
            lambda session: _record_replies(
                session,
                recorded.conversation_id,
                recorded.message,
                visible,
                Author.BOT,
                MessageStatus.ANSWERED,
                Owner.BOT,
            )
        )
        if stored is None:
            # Ownership moved while the bot was thinking (a second message escalated): the bot stays silent.
            return Outcome(seqs=[recorded.message.seq])
        publish_messages(self.app, recorded.conversation_id, stored)
        outcome = Outcome(replies=visible, seqs=[recorded.message.seq, *(m.seq for m in stored)])
        if packets:
            await self._enqueue(incoming, recorded, packets[-1], outcome)
        return outcome

    async def _enqueue(self, incoming: Incoming, recorded: Recorded, raw: object, outcome: Outcome) -> None:
        try:
            packet = parse_packet(raw)
        except PacketError as exc:
            log.error("the action server sent an invalid handoff packet (%s); not queued", exc)
            return
        if incoming.address is not None and not asks_for_person(incoming.text):
            # the bot escalated on its own: this handoff counts too (a 转人工 was counted on arrival)
            try:
                await enforce(customer_limits(self.app).handoffs(incoming.address))
            except ApiError:
                log.warning("handoff of a client over the handoff limit not queued")
                await self._add_notice(incoming, recorded, messages.HANDOFFS_TOO_OFTEN, outcome)
                return
        now = utcnow()

        def queue_and_tell(session: Session) -> tuple[Enqueued, Reply, list[Message] | None]:
            # One transaction: the customer is never queued without the notice, nor told without being queued.
            enqueued = request_handoff(session, incoming.sender, packet, now)
            notice = system_reply(
                incoming.sender,
                messages.queued(enqueued.grid_name, enqueued.position, enqueued.eta_seconds),
                messages.QUEUE_BUTTONS,
            )
            return enqueued, notice, _record_replies(session, recorded.conversation_id, None, [notice], Author.SYSTEM)

        try:
            enqueued, notice, stored = await run_in_session(queue_and_tell)
        except OwnershipError as exc:
            log.warning("handoff request refused: %s", exc)
            return
        assert stored is not None
        publish_messages(self.app, recorded.conversation_id, stored)
        outcome.replies.append(notice)
        outcome.seqs.extend(m.seq for m in stored)
        await publish_queue_change(self.app, [enqueued.grid_code])
        await publish_status(self.app, incoming.sender, recorded.conversation_id)

    async def _rate(self, incoming: Incoming, recorded: Recorded, score: int | None, token: str | None) -> Outcome:
        def rate_last(session: Session) -> str:
            handoff_id = session.scalar(
                select(Conversation.handoff_id).where(Conversation.id == recorded.conversation_id)
            )
            if handoff_id is None or score is None:
                return messages.RATING_NOT_PENDING
            try:
                rate(session, incoming.sender, handoff_id, score, "", utcnow(), token=token)
            except InvalidRatingToken:
                return messages.RATING_REFUSED
            except (AlreadyRated, HandoffNotFound, InvalidRating):
                return messages.RATING_NOT_PENDING
            return messages.RATING_THANKS

        text = await run_in_session(rate_last)
        await publish_status(self.app, incoming.sender, recorded.conversation_id)
        return await self._say(incoming, recorded, [system_reply(incoming.sender, text)])

    async def _add_notice(self, incoming: Incoming, recorded: Recorded, text: str, outcome: Outcome) -> None:
        """One more system message after the replies already in ``outcome``."""
        reply = system_reply(incoming.sender, text)
        stored = await run_in_session(
            lambda session: _record_replies(session, recorded.conversation_id, None, [reply], Author.SYSTEM)
        )
        assert stored is not None
        publish_messages(self.app, recorded.conversation_id, stored)
        outcome.replies.append(reply)
        outcome.seqs.extend(m.seq for m in stored)

    async def _say(
        self,
        incoming: Incoming,
        recorded: Recorded,
        replies: list[Reply],
        status: MessageStatus = MessageStatus.ANSWERED,
    ) -> Outcome:
        stored = await run_in_session(
            lambda session: _record_replies(
                session, recorded.conversation_id, recorded.message, replies, Author.SYSTEM, status
            )
        )
        assert stored is not None
        publish_messages(self.app, recorded.conversation_id, stored)
        return Outcome(replies=replies, seqs=[recorded.message.seq, *(m.seq for m in stored)])


inbox_key = web.AppKey("inbox", Inbox)
# the follow-up of messages left unanswered while the bot was down (gateway/recovery.py installs it): called
# with a conversation id before its next message goes to the bot; False = the bot is still away
follow_up_key: web.AppKey[Callable[[int], Awaitable[bool]]] = web.AppKey("follow_up")
