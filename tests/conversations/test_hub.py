"""The live hub: topics, late subscribers, slow subscribers."""

from __future__ import annotations

import asyncio

from conversations.hub import MAX_PENDING, Hub


async def _drain(subscription) -> list:
    received = []
    async for topic, event in subscription:
        received.append((topic, event["n"]))
    return received


async def test_an_event_reaches_only_the_subscribers_of_its_topic():
    hub = Hub()
    one, two = hub.subscribe(["conversation:1"]), hub.subscribe(["conversation:2", "queue"])
    hub.publish("conversation:1", {"n": 1})
    hub.publish("queue", {"n": 2})
    one.close()
    two.close()
    assert await _drain(one) == [("conversation:1", 1)]
    assert await _drain(two) == [("queue", 2)]
    assert hub.subscriber_count("queue") == 0


async def test_topics_can_be_added_and_dropped_while_subscribed():
    hub = Hub()
    subscription = hub.subscribe()
    hub.publish("conversation:3", {"n": 1})
    subscription.add("conversation:3")
    hub.publish("conversation:3", {"n": 2})
    subscription.discard("conversation:3")
    hub.publish("conversation:3", {"n": 3})
    subscription.close()
    assert await _drain(subscription) == [("conversation:3", 2)]


async def test_a_subscriber_far_behind_is_dropped_and_its_stream_ends_so_the_client_can_catch_up():
    hub = Hub()
    slow = hub.subscribe(["queue"])
    for n in range(MAX_PENDING + 5):
        hub.publish("queue", {"n": n})
    assert slow.overflowed and hub.subscriber_count("queue") == 0
    received = await asyncio.wait_for(_drain(slow), 1)  # ends instead of waiting forever
    assert len(received) < MAX_PENDING
