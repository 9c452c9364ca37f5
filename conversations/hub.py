"""Live fan-out of gateway events to open websockets (customers' widgets and agents' consoles).

The hub only carries news; every fact lives in the database, so a client that reconnects catches up
from the database (messages after the last ``seq`` it saw) and nothing is lost if an event is. With
several gateway replicas this becomes PostgreSQL LISTEN/NOTIFY (or Redis pub/sub) behind the same
``publish`` / ``subscribe`` (DESIGN.md, "Scale-out path").

Topics: ``conversation:<id>`` (messages and status of one conversation), ``queue`` (some grid's queue
or some agent's chats changed; payload names the grids), ``alerts`` (a new SLA alert), ``outbound``
(a conversation has new messages: wakes the channel relay), ``account:<id>`` (logins of a staff
account ended: its open consoles re-check theirs), ``tickets`` (tickets changed: number, grid, kind).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

Event = dict[str, Any]
MAX_PENDING = 1000  # a subscriber this far behind is dropped; its client reconnects and catches up


def conversation_topic(conversation_id: int) -> str:
    return f"conversation:{conversation_id}"


def account_topic(account_id: int) -> str:
    return f"account:{account_id}"


QUEUE_TOPIC = "queue"
ALERTS_TOPIC = "alerts"
OUTBOUND_TOPIC = "outbound"  # some conversation has new messages (the channel relay delivers them)
TICKETS_TOPIC = "tickets"  # tickets changed (their audit trail grew): the workspace and the board update


class Subscription:
    """One client's mailbox; topics can be added and removed while it is open."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self.topics: set[str] = set()
        self.queue: asyncio.Queue[tuple[str, Event] | None] = asyncio.Queue(MAX_PENDING)
        self.overflowed = False

    def add(self, topic: str) -> None:
        self.topics.add(topic)
        self._hub._subscribers[topic].add(self)

    def discard(self, topic: str) -> None:
        self.topics.discard(topic)
        subscribers = self._hub._subscribers.get(topic)
        if subscribers is not None:
            subscribers.discard(self)
            if not subscribers:
                del self._hub._subscribers[topic]

    def close(self) -> None:
        """Stop receiving; the iterator ends after what is already queued."""
        for topic in list(self.topics):
            self.discard(topic)
        self._end()

    def _end(self) -> None:
        while self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(None)

    def _deliver(self, topic: str, event: Event) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait((topic, event))
        except asyncio.QueueFull:
            # Far behind: drop it; the client sees the connection end, reconnects and catches up.
            self.overflowed = True
            log.warning("a live subscriber fell %d events behind; dropping it", MAX_PENDING)
            for name in list(self.topics):
                self.discard(name)
            self._end()

    async def __aiter__(self) -> AsyncIterator[tuple[str, Event]]:
        while True:
            item = await self.queue.get()
            if item is None:
                return
            yield item


class Hub:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)

    def subscribe(self, topics: Iterable[str] = ()) -> Subscription:
        subscription = Subscription(self)
        for topic in topics:
            subscription.add(topic)
        return subscription

    def publish(self, topic: str, event: Event) -> None:
        """Deliver ``event`` to every subscriber of ``topic`` (never blocks)."""
        for subscription in list(self._subscribers.get(topic, ())):
            subscription._deliver(topic, event)

    def subscriber_count(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))


hub_key = web.AppKey("hub", Hub)
