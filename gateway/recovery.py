"""Nothing a customer said while the bot was down is dropped: it is answered when the bot is back, in order,
or handed to a person when the wait grows too long (issue 13, "No dialogue lost").

While Rasa does not answer, the inbox stores the customer's message as ``unanswered`` and tells them so.
:func:`follow_up` takes such a conversation's messages oldest first. Each is claimed by a conditional update
of ``message.retry_claimed_at`` (a lease: of two gateway replicas only one sends it; a replica that dies
mid-send leaves it to a later pass once ``LEASE`` has passed), then either

- sent to Rasa as if it had just arrived, its replies stored and published (a notice first says which
  message is being answered), or
- when it has waited ``GRIDDESK_UNANSWERED_HANDOFF_SECONDS`` or more, the conversation goes to the human
  queue of the customer's grid (reason ``bot_unavailable``) and every waiting message is left to the agent.

The inbox runs the follow-up of a conversation before sending the customer's next message to the bot, so
the bot always hears a conversation in the order it was written; the periodic ``unanswered_follow_up``
takes the conversations whose customers have not written again. Staff see what waits in the manager
board (:func:`conversations.backlog.bot_backlog`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from aiohttp import web
from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from conversations.backlog import HORIZON
from conversations.live import publish_messages
from conversations.models import Author, Conversation, Message, MessageStatus, Owner
from conversations.notices import system_reply
from conversations.transcript import BUTTON_KEY
from customers.models import Customer
from customers.service import bot_facts
from gateway.inbox import Inbox, Incoming, Recorded, _record_replies, bot_input, follow_up_key, inbox_key
from gateway.rasa_client import BotUnavailable
from griddesk.db import rows_changed, run_in_session, utcnow
from griddesk.web.keys import settings_key
from griddesk.web.tasks import periodic
from handoff import messages
from handoff.live import publish_queue_change, publish_status
from handoff.models import HandoffReason
from handoff.ownership import OwnershipError
from handoff.packet import MAX_SUMMARY_CHARS, Packet
from handoff.queue import request_handoff

log = logging.getLogger(__name__)

MIN_LEASE = timedelta(minutes=2)  # a claim lasts at least this, and three Rasa timeouts
PASS_SECONDS = 5.0
BATCH = 20  # conversations per periodic pass


@dataclass(frozen=True)
class Claimed:
    """One unanswered message this gateway now follows up."""

    message: Message
    sender_id: str
    channel: str
    owner: Owner
    customer: dict[str, object]


def _waiting(now: datetime, lease: timedelta) -> tuple[ColumnElement[bool], ...]:
    """Unanswered customer messages of the last day that nobody is following up now."""
    return (
        Message.author == Author.CUSTOMER,
        Message.status == MessageStatus.UNANSWERED,
        Message.created_at >= now - HORIZON,
        or_(Message.retry_claimed_at.is_(None), Message.retry_claimed_at < now - lease),
    )


def claim_oldest(session: Session, conversation_id: int, now: datetime, lease: timedelta) -> Claimed | None:
    """Claim the conversation's oldest unanswered message, or None (none left, or another gateway has it)."""
    waiting = (Message.conversation_id == conversation_id, *_waiting(now, lease))
    message_id = session.scalar(select(Message.id).where(*waiting).order_by(Message.seq).limit(1))
    if message_id is None:
        return None
    claimed = session.execute(
        update(Message)
        .where(Message.id == message_id, *waiting)
        .values(retry_claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(claimed) != 1:
        return None
    message = session.get_one(Message, message_id)
    conversation = session.get_one(Conversation, conversation_id)
    customer = session.get(Customer, conversation.customer_id) if conversation.customer_id is not None else None
    session.expunge(message)
    return Claimed(
        message=message,
        sender_id=conversation.sender_id,
        channel=conversation.channel,
        owner=Owner(conversation.owner),
        customer=bot_facts(customer),
    )


def release(session: Session, message_id: int) -> None:
    """The bot is still away: the message waits for a later pass."""
    session.execute(update(Message).where(Message.id == message_id).values(retry_claimed_at=None))


def leave_to_people(session: Session, conversation_id: int) -> int:
    """Every unanswered message of a conversation people now own becomes an ordinary received message
    (the agent reads and answers it); returns how many."""
    result = session.execute(
        update(Message)
        .where(
            Message.conversation_id == conversation_id,
            Message.author == Author.CUSTOMER,
            Message.status == MessageStatus.UNANSWERED,
        )
        .values(status=MessageStatus.RECEIVED, retry_claimed_at=None)
    )
    return rows_changed(result)


def waiting_conversations(session: Session, now: datetime, lease: timedelta, limit: int = BATCH) -> list[int]:
    """Conversations with an unanswered message nobody follows up, the longest waiting first (so those due
    for a person come before any that would ask the bot)."""
    since = func.min(Message.created_at)
    return list(
        session.scalars(
            select(Message.conversation_id)
            .where(*_waiting(now, lease))
            .group_by(Message.conversation_id)
            .order_by(since, Message.conversation_id)
            .limit(limit)
        )
    )


class FollowUp:
    """The follow-up of one gateway application (``follow_up_key``)."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.lease = max(MIN_LEASE, timedelta(seconds=3 * app[settings_key].rasa_timeout))

    @property
    def _inbox(self) -> Inbox:
        return self.app[inbox_key]

    async def __call__(self, conversation_id: int) -> bool:
        """Answer or hand over the conversation's unanswered messages, oldest first; False when the bot is
        still away (the rest then wait, and the caller should not ask the bot either)."""
        told = False
        while True:
            now = utcnow()
            claimed = await run_in_session(
                partial(claim_oldest, conversation_id=conversation_id, now=now, lease=self.lease)
            )
            if claimed is None:
                return True
            if claimed.owner is not Owner.BOT:
                await run_in_session(lambda session: leave_to_people(session, conversation_id))
                return True
            handoff_after = self.app[settings_key].unanswered_handoff_seconds
            if handoff_after and now - claimed.message.created_at >= timedelta(seconds=handoff_after):
                await self._hand_over(conversation_id, claimed)
                return True
            said = what_was_said(claimed.message)
            incoming = Incoming(claimed.sender_id, said, None, claimed.channel)
            recorded = Recorded(conversation_id, claimed.message, Owner.BOT, claimed.customer)
            try:
                replies = await self._inbox.ask(incoming, recorded, *bot_input(said))
            except BotUnavailable as exc:
                log.info("bot still unavailable; message %s waits: %s", claimed.message.id, exc)
                await run_in_session(partial(release, message_id=claimed.message.id))
                return False
            if not told:
                await self._notice(conversation_id, claimed.sender_id, bot_back(claimed.message.text or ""))
                told = True
            await self._inbox.deliver(incoming, recorded, replies)
            log.info("unanswered message %s of conversation %s answered", claimed.message.id, conversation_id)

    async def _hand_over(self, conversation_id: int, claimed: Claimed) -> None:
        now = utcnow()
        summary = (claimed.message.text or "")[:MAX_SUMMARY_CHARS]
        packet = Packet(reason=HandoffReason.BOT_UNAVAILABLE, grid="", summary=summary or None)

        def queue_and_tell(session: Session) -> tuple[str, list[Message]] | None:
            try:
                enqueued = request_handoff(session, claimed.sender_id, packet, now)
            except OwnershipError:
                return None
            leave_to_people(session, conversation_id)
            notices = [
                system_reply(claimed.sender_id, messages.BOT_UNAVAILABLE_HANDED_OVER),
                system_reply(
                    claimed.sender_id,
                    messages.queued(enqueued.grid_name, enqueued.position, enqueued.eta_seconds),
                    messages.QUEUE_BUTTONS,
                ),
            ]
            stored = _record_replies(session, conversation_id, None, notices, Author.SYSTEM)
            assert stored is not None
            return enqueued.grid_code, stored

        result = await run_in_session(queue_and_tell)
        if result is None:  # people took the conversation meanwhile: they read the messages
            await run_in_session(lambda session: leave_to_people(session, conversation_id))
            return
        grid_code, stored = result
        log.warning("conversation %s handed to people: the bot did not answer for too long", conversation_id)
        publish_messages(self.app, conversation_id, stored)
        await publish_queue_change(self.app, [grid_code])
        await publish_status(self.app, claimed.sender_id, conversation_id)

    async def _notice(self, conversation_id: int, sender_id: str, text: str) -> None:
        stored = await run_in_session(
            lambda session: _record_replies(
                session, conversation_id, None, [system_reply(sender_id, text)], Author.SYSTEM
            )
        )
        assert stored is not None
        publish_messages(self.app, conversation_id, stored)


def what_was_said(message: Message) -> str:
    """The message as the customer's client sent it: a pressed button's payload (the transcript keeps its
    title, the payload under ``BUTTON_KEY``), else the text."""
    pressed = (message.payload or {}).get(BUTTON_KEY)
    return pressed if isinstance(pressed, str) else message.text or ""


def bot_back(text: str) -> str:
    """The notice before the bot answers a message it missed: which message is being answered."""
    quoted = text if len(text) <= 30 else text[:30] + "…"
    return messages.bot_back(quoted)


async def follow_up_all(app: web.Application) -> None:
    """One periodic pass over the waiting conversations, longest waiting first, until the bot proves still
    away (the conversations due for a person come first, so they are handed over even then)."""
    follow_up = app[follow_up_key]
    lease = follow_up.lease if isinstance(follow_up, FollowUp) else MIN_LEASE
    conversations = await run_in_session(lambda session: waiting_conversations(session, utcnow(), lease))
    for conversation_id in conversations:
        if not await follow_up(conversation_id):
            return


def install(app: web.Application, *, periodic_pass: bool = True) -> None:
    """Give the inbox its follow-up and (unless told not to) run the periodic pass."""
    hook: Callable[[int], Awaitable[bool]] = FollowUp(app)
    app[follow_up_key] = hook
    if periodic_pass:
        app.cleanup_ctx.append(unanswered_follow_up)


unanswered_follow_up = periodic("unanswered follow-up", follow_up_all, lambda _app: PASS_SECONDS)
