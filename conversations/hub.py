"""Live fan-out of gateway events to open websockets (customers' widgets and agents' consoles).

The hub only carries news; every fact lives in the database, so a client that reconnects catches up
from the database (messages after the last ``seq`` it saw) and nothing is lost if an event is.

One gateway process: :class:`Hub`, in memory. Several (``GRIDDESK_REDIS_URL``): :class:`RedisHub`, the same
``publish`` / ``subscribe`` (DESIGN.md, "Scale-out path"). A publish is still delivered at once, in-process, to
this process's subscribers, and sent through Redis pub/sub (one channel, ``griddesk:hub``, tagged with this
process's origin) to the other processes, which deliver it to theirs; a process ignores its own events coming
back, so nobody gets one twice. When the link to Redis breaks, the hub logs it, reconnects with a growing pause,
and ends every local subscription both when the link breaks and when it is back (and asks the other processes
to do the same): clients see their stream end, reconnect and catch up from the database, as after an overflow.

Topics: ``conversation:<id>`` (messages and status of one conversation), ``queue`` (some grid's queue
or some agent's chats changed; payload names the grids), ``alerts`` (a new SLA alert), ``outbound``
(a conversation has new messages: wakes the channel relay), ``account:<id>`` (logins of a staff
account ended: its open consoles re-check theirs), ``tickets`` (tickets changed: number, grid, kind).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from typing import Any

from aiohttp import web
from redis import asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

Event = dict[str, Any]
MAX_PENDING = 1000  # a subscriber this far behind is dropped; its client reconnects and catches up
REDIS_CHANNEL = "griddesk:hub"
MAX_OUTGOING = 10_000  # events waiting to go to Redis; past that they are dropped (and the others told to catch up)
CONNECT_WAIT_SECONDS = 5.0  # at start, how long the gateway waits for the first link before serving anyway
MAX_RECONNECT_PAUSE = 5.0


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
            log.warning("a live subscriber fell %d events behind; dropping it", MAX_PENDING)
            self._drop()

    def _drop(self) -> None:
        """End this stream now (events may have been missed): its client reconnects and catches up."""
        self.overflowed = True
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
        self.publish_local(topic, event)

    def publish_local(self, topic: str, event: Event) -> None:
        """Deliver ``event`` to this process's subscribers only: for news every process finds by itself (each
        gateway reads the tickets' audit trail), which would otherwise reach every client once per process."""
        for subscription in list(self._subscribers.get(topic, ())):
            subscription._deliver(topic, event)

    def subscriber_count(self, topic: str) -> int:
        """This process's subscribers of ``topic``."""
        return len(self._subscribers.get(topic, ()))

    def listening(self, topic: str) -> bool:
        """Whether anybody may be listening to ``topic`` (so an event is worth computing): here, in this process."""
        return self.subscriber_count(topic) > 0

    def _drop_all(self) -> None:
        """End every local subscription (events may have been missed): clients reconnect and catch up."""
        for subscription in {s for subscribers in self._subscribers.values() for s in subscribers}:
            subscription._drop()

    async def run(self) -> AsyncIterator[None]:
        """Whatever the hub needs while the application runs (nothing, in memory)."""
        yield


class RedisHub(Hub):
    """The hub of one of several gateway processes: local delivery as :class:`Hub`, and Redis pub/sub between
    the processes (see the module's docstring)."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.origin = uuid.uuid4().hex
        self.linked = asyncio.Event()  # set while the link to Redis is up
        self._outgoing: asyncio.Queue[str] = asyncio.Queue(MAX_OUTGOING)
        self._overflowed = False

    def publish(self, topic: str, event: Event) -> None:
        self.publish_local(topic, event)
        if not self.linked.is_set():
            return  # the link is down: the other processes' clients are made to catch up when it is back
        try:
            message = json.dumps({"origin": self.origin, "topic": topic, "event": event})
        except (TypeError, ValueError):
            log.exception("a live event on %s is not JSON; not sent to the other gateway processes", topic)
            return
        try:
            self._outgoing.put_nowait(message)
        except asyncio.QueueFull:
            if not self._overflowed:
                log.warning("live events to other gateway processes are %d behind; dropping", MAX_OUTGOING)
            self._overflowed = True

    def listening(self, topic: str) -> bool:
        # A subscriber may be in any process, and the subscribers are each process's own (subscriber_count):
        # true, so an event is always computed and sent. Its one use is handoff.live, which skips computing the
        # queue places of customers nobody listens to; it costs one read of each changed grid's queue, which asking
        # every process would not undercut. (Whether an agent's console is open is in the database instead:
        # grids.agent_status, marked by the console's connection in whichever process it reaches.)
        return True

    async def run(self) -> AsyncIterator[None]:
        """Keep the link to Redis while the application runs; the gateway starts once it is up (or after
        ``CONNECT_WAIT_SECONDS`` without it, still serving this process's own clients)."""
        task = asyncio.create_task(self._keep_linked(), name="live hub link")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.linked.wait(), CONNECT_WAIT_SECONDS)
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _keep_linked(self) -> None:
        pause = 0.2
        lost = False
        while True:
            client = aioredis.Redis.from_url(self.url)
            try:
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                await pubsub.subscribe(REDIS_CHANNEL)
                self._clear_outgoing()
                self.linked.set()
                if lost:
                    log.warning("live events across gateway processes restored: Redis is reachable again")
                    self._drop_all()  # what was missed meanwhile: clients catch up from the database
                    await client.publish(REDIS_CHANNEL, json.dumps({"origin": self.origin, "catch_up": True}))
                lost = False
                pause = 0.2
                await self._relay_both_ways(client, pubsub)
            except (RedisError, OSError) as exc:
                self.linked.clear()
                if not lost:
                    log.warning(
                        "live events across gateway processes interrupted: Redis unreachable (%s); reconnecting",
                        exc,
                    )
                    self._drop_all()
                lost = True
            finally:
                self.linked.clear()
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_RECONNECT_PAUSE)

    def _clear_outgoing(self) -> None:
        while not self._outgoing.empty():
            self._outgoing.get_nowait()
        self._overflowed = False

    async def _relay_both_ways(self, client: aioredis.Redis, pubsub: Any) -> None:
        """Send this process's events and deliver the others' until the link fails (raises RedisError)."""
        sending = asyncio.create_task(self._send(client))
        receiving = asyncio.create_task(self._receive(pubsub))
        try:
            done, _pending = await asyncio.wait({sending, receiving}, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # the failure that ended it
        finally:
            for task in (sending, receiving):
                task.cancel()
            await asyncio.gather(sending, receiving, return_exceptions=True)

    async def _send(self, client: aioredis.Redis) -> None:
        while True:
            message = await self._outgoing.get()
            await client.publish(REDIS_CHANNEL, message)
            if self._overflowed and self._outgoing.empty():
                # events were dropped on the way out: the other processes' clients catch up from the database
                self._overflowed = False
                await client.publish(REDIS_CHANNEL, json.dumps({"origin": self.origin, "catch_up": True}))

    async def _receive(self, pubsub: Any) -> None:
        async for message in pubsub.listen():
            if message.get("type") != "message":
                continue
            try:
                data = json.loads(message["data"])
            except (TypeError, ValueError):
                log.warning("an unreadable live event on %s; ignored", REDIS_CHANNEL)
                continue
            if data.get("origin") == self.origin:
                continue  # our own, delivered locally when published
            if data.get("catch_up"):
                self._drop_all()
            elif isinstance(data.get("topic"), str) and isinstance(data.get("event"), dict):
                self.publish_local(data["topic"], data["event"])
        raise RedisError("the subscription to live events ended")


def make_hub(redis_url: str) -> Hub:
    """The hub of a gateway process: in memory alone, through Redis when several share ``redis_url``."""
    return RedisHub(redis_url) if redis_url else Hub()


async def hub_running(app: web.Application) -> AsyncIterator[None]:
    """``app.cleanup_ctx`` entry: the hub's link while the application runs."""
    async for _ in app[hub_key].run():
        yield


hub_key = web.AppKey("hub", Hub)
