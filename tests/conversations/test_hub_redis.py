"""The live hub of several gateway processes (``RedisHub``) against a real Redis server (``tests/redis_server.py``):
two hubs stand for two processes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from conversations.hub import Hub, RedisHub, Subscription, make_hub

WAIT = 10.0


@contextlib.asynccontextmanager
async def running(hub: Hub) -> AsyncIterator[Hub]:
    async with contextlib.asynccontextmanager(hub.run)():
        yield hub


async def take(subscription: Subscription, count: int) -> list[tuple[str, int]]:
    received: list[tuple[str, int]] = []
    async for topic, event in subscription:
        received.append((topic, event["n"]))
        if len(received) == count:
            break
    return received


async def crossing(sender: Hub, receiver: Hub) -> None:
    """Until an event from ``sender`` reaches a subscriber of ``receiver``: then the catch-up ``sender`` asked for
    on reconnecting (sent before it on the same link) has been dealt with and ends no later stream."""
    while True:
        probe = receiver.subscribe(["probe"])
        sender.publish("probe", {"n": 0})
        if await take(probe, 1):
            probe.close()
            return


async def ended(subscription: Subscription) -> list[tuple[str, int]]:
    """Everything until the hub ends the stream (it must end)."""
    return [(topic, event["n"]) async for topic, event in subscription]


def test_without_a_redis_url_the_hub_is_the_in_memory_one():
    assert type(make_hub("")) is Hub
    assert isinstance(make_hub("unix:///tmp/nowhere.sock"), RedisHub)


async def test_an_event_published_in_one_process_reaches_the_other_and_nobody_twice(redis_url):
    async with running(RedisHub(redis_url)) as one, running(RedisHub(redis_url)) as two:
        mine, theirs = one.subscribe(["conversation:1"]), two.subscribe(["conversation:1", "queue"])
        back = one.subscribe(["queue"])
        for n in (1, 2, 3):
            one.publish("conversation:1", {"n": n})
        assert mine.queue.qsize() == 3  # delivered in-process at once, as with one process
        assert await asyncio.wait_for(take(theirs, 3), WAIT) == [("conversation:1", n) for n in (1, 2, 3)]
        # an event from the other process comes after our own three went through Redis: had they come back
        # to our subscriber, they would be before it
        two.publish("queue", {"n": 4})
        assert await asyncio.wait_for(take(back, 1), WAIT) == [("queue", 4)]
        mine.close()
        assert await ended(mine) == [("conversation:1", n) for n in (1, 2, 3)]
        assert await asyncio.wait_for(take(theirs, 1), WAIT) == [("queue", 4)]  # theirs: local, once


async def test_news_each_process_finds_itself_stays_local(redis_url):
    async with running(RedisHub(redis_url)) as one, running(RedisHub(redis_url)) as two:
        theirs = two.subscribe(["tickets"])
        one.publish_local("tickets", {"n": 1})
        one.publish("tickets", {"n": 2})
        assert await asyncio.wait_for(take(theirs, 1), WAIT) == [("tickets", 2)]


async def test_events_dropped_on_the_way_out_make_the_other_process_catch_up(redis_url, monkeypatch):
    monkeypatch.setattr("conversations.hub.MAX_OUTGOING", 3)
    async with running(RedisHub(redis_url)) as one, running(RedisHub(redis_url)) as two:
        theirs = two.subscribe(["conversation:1"])
        for n in range(1, 6):  # published at once: the queue to Redis holds 3, the last 2 are dropped
            one.publish("conversation:1", {"n": n})
        # the 3 that went out, then the stream ends: its client reconnects and reads what it missed
        assert await asyncio.wait_for(ended(theirs), WAIT) == [("conversation:1", n) for n in (1, 2, 3)]
        assert theirs.overflowed
        later = two.subscribe(["conversation:1"])
        one.publish("conversation:1", {"n": 6})  # and after it, events cross again
        assert await asyncio.wait_for(take(later, 1), WAIT) == [("conversation:1", 6)]


async def test_anybody_may_listen_in_another_process(redis_url):
    assert not Hub().listening("conversation:9")
    assert RedisHub(redis_url).listening("conversation:9")  # a customer of another process may be on it


async def test_when_redis_goes_away_streams_end_and_when_it_is_back_events_cross_again(redis_server, redis_url):
    async with running(RedisHub(redis_url)) as one, running(RedisHub(redis_url)) as two:
        assert isinstance(one, RedisHub) and isinstance(two, RedisHub)
        before = two.subscribe(["conversation:2"])
        redis_server.stop()
        assert await asyncio.wait_for(ended(before), WAIT) == []  # its client reconnects and catches up
        during = two.subscribe(["conversation:2"])  # a client that reconnected meanwhile
        one.publish("conversation:2", {"n": 1})  # not carried: the link is down
        redis_server.start()
        await asyncio.wait_for(one.linked.wait(), 30)
        await asyncio.wait_for(two.linked.wait(), 30)
        await asyncio.wait_for(crossing(one, two), WAIT)
        # what it may have missed while the link was down: it catches up from the database again
        assert await asyncio.wait_for(ended(during), WAIT) == []
        after = two.subscribe(["conversation:2"])
        one.publish("conversation:2", {"n": 2})
        assert await asyncio.wait_for(take(after, 1), WAIT) == [("conversation:2", 2)]


async def test_a_gateway_starts_when_redis_is_unreachable_and_serves_its_own_subscribers(tmp_path, monkeypatch):
    monkeypatch.setattr("conversations.hub.CONNECT_WAIT_SECONDS", 0.2)
    hub = RedisHub(f"unix://{tmp_path}/missing.sock")
    async with running(hub):
        local = hub.subscribe(["queue"])
        hub.publish("queue", {"n": 1})
        assert not hub.linked.is_set()
        assert await asyncio.wait_for(take(local, 1), WAIT) == [("queue", 1)]


@pytest.mark.parametrize("bad", [b"not json", b'{"origin": "x", "topic": 5, "event": {}}'])
async def test_unreadable_messages_on_the_channel_are_ignored(redis_url, bad):
    import redis.asyncio

    from conversations.hub import REDIS_CHANNEL

    async with running(RedisHub(redis_url)) as one, running(RedisHub(redis_url)) as two:
        listening = two.subscribe(["queue"])
        client = redis.asyncio.Redis.from_url(redis_url)
        await client.publish(REDIS_CHANNEL, bad)
        await client.aclose()
        one.publish("queue", {"n": 1})
        assert await asyncio.wait_for(take(listening, 1), WAIT) == [("queue", 1)]
