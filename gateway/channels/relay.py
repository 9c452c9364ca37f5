"""The relay: every bot, agent and system message reaches a messaging channel's customer, in order, once.

Channels register a sender (``relay.register("telegram", send)``). The relay wakes on the hub's
``outbound`` topic and every ``POLL_SECONDS`` (messages written straight to the database, such as
ticket progress notices, are found that way too), looks for conversations of registered channels with
messages after ``conversation.delivered_seq``, and sends the customer-facing ones in order. Each message is claimed
first by a conditional update of ``delivered_seq`` (so of two relays — two gateway replicas — only one
sends it) and given back when the send fails (``DeliveryError``): that conversation waits for a later
pass, with a growing pause, and nothing is skipped. A gateway that dies between claim and send loses
that one message (at most once is the rule here: a customer reads a message twice worse than a gap
the transcript still shows).

With several gateway processes, one relay sends (the ``channel relay`` lease, :mod:`griddesk.leases`), so a
customer's messages leave in order from one place; the others wait and take over when it stops (it gives the
lease back) or dies (the lease expires after ``LEASE_SECONDS``). The claims above still hold if two ever overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from conversations.hub import OUTBOUND_TOPIC, hub_key
from conversations.models import Author, Conversation, Message
from conversations.transcript import message_dict
from griddesk.db import rows_changed, run_in_session
from griddesk.leases import Lease
from griddesk.web.tasks import background

log = logging.getLogger(__name__)

Sender = Callable[[str, dict[str, Any]], Awaitable[None]]
POLL_SECONDS = 2.0
BATCH = 50  # conversations per pass
MAX_BACKOFF = 300.0
LEASE_SECONDS = 15.0  # one relay across gateway processes; a dead holder's relay is taken over after this long
CUSTOMER_FACING = (Author.BOT, Author.AGENT, Author.SYSTEM)


class DeliveryError(Exception):
    """A send failed in a way worth retrying later (network, 5xx, rate limit)."""


def _pending(session: Session, channels: list[str]) -> list[tuple[int, str, str, int]]:
    rows = session.execute(
        select(Conversation.id, Conversation.sender_id, Conversation.channel, Conversation.delivered_seq)
        .where(Conversation.channel.in_(channels), Conversation.last_seq > Conversation.delivered_seq)
        .order_by(Conversation.updated_at)
        .limit(BATCH)
    )
    return [(cid, sender, channel, delivered) for cid, sender, channel, delivered in rows]


def _undelivered(session: Session, conversation_id: int, after: int) -> list[dict[str, Any]]:
    messages = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.seq > after)
        .order_by(Message.seq)
        .limit(200)
    )
    return [message_dict(m) for m in messages]


async def _advance(conversation_id: int, before: int, to: int) -> bool:
    """Move ``delivered_seq`` from ``before`` to ``to`` (forward to claim, back to give a message back);
    False if another relay moved it first."""

    def move(session: Session) -> bool:
        moved = session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.delivered_seq == before)
            .values(delivered_seq=to)
            .execution_options(synchronize_session=False)
        )
        return rows_changed(moved) == 1

    return await run_in_session(move)


class Relay:
    def __init__(self) -> None:
        self.senders: dict[str, Sender] = {}
        self._retry_at: dict[int, float] = {}  # conversation id → monotonic time of the next try
        self._failures: dict[int, int] = {}
        self._wake = asyncio.Event()
        self.lease = Lease("channel relay", LEASE_SECONDS)  # this process's claim to be the one relay

    def register(self, channel: str, send: Sender) -> None:
        self.senders[channel] = send

    def wake(self) -> None:
        self._wake.set()

    async def deliver_pending(self) -> int:
        """One pass over every conversation with undelivered messages; returns how many were sent."""
        if not self.senders:
            return 0
        sent = 0
        now = time.monotonic()
        channels = list(self.senders)
        pending = await run_in_session(lambda session: _pending(session, channels))
        for conversation_id, sender_id, channel, delivered in pending:
            if self._retry_at.get(conversation_id, 0.0) > now:
                continue
            sent += await self._deliver(conversation_id, sender_id, self.senders[channel], delivered)
        return sent

    async def _deliver(self, conversation_id: int, sender_id: str, send: Sender, delivered: int) -> int:
        sent = 0
        undelivered = await run_in_session(lambda session: _undelivered(session, conversation_id, delivered))
        for message in undelivered:
            # Claim the message first: of two relays only one moves delivered_seq, and only it sends.
            if not await _advance(conversation_id, delivered, message["seq"]):
                return sent
            if message["author"] in CUSTOMER_FACING:
                try:
                    await send(sender_id, message)
                except DeliveryError as exc:
                    await _advance(conversation_id, message["seq"], delivered)  # give it back
                    failures = self._failures.get(conversation_id, 0) + 1
                    self._failures[conversation_id] = failures
                    pause = min(MAX_BACKOFF, 2.0**failures)
                    self._retry_at[conversation_id] = time.monotonic() + pause
                    log.warning("delivery to %s failed (%s); retrying in %.0f s", sender_id, exc, pause)
                    return sent
                except Exception:  # a bug in a channel must not stop the others: log, skip this message
                    log.exception("channel sender crashed on message %s of %s; skipped", message["seq"], sender_id)
                sent += 1
            delivered = message["seq"]
        self._failures.pop(conversation_id, None)
        self._retry_at.pop(conversation_id, None)
        return sent

    async def run(self, app: web.Application) -> None:
        hub = app[hub_key]
        lease = self.lease

        async def listen() -> None:
            while True:  # a stream the hub ended (a broken link to the other processes) is opened again
                subscription = hub.subscribe([OUTBOUND_TOPIC])
                try:
                    async for _topic, _event in subscription:
                        self._wake.set()
                finally:
                    subscription.close()
                self._wake.set()  # events may have been missed: a pass finds what they announced

        listener = asyncio.create_task(listen())
        try:
            while True:
                try:
                    if await lease.held():
                        await self.deliver_pending()
                except Exception:
                    log.exception("relay pass failed; retrying")
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            await lease.release()


relay_key = web.AppKey("relay", Relay)


async def _run_relay(app: web.Application) -> None:
    await app[relay_key].run(app)


# ``app.cleanup_ctx`` entry: runs the relay while the gateway runs.
relay_task = background("channel relay", _run_relay)
