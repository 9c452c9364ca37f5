"""The relay: bot, agent and system messages reach a channel in order, once, also after failures."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from conversations.models import Author, Conversation, MessageStatus
from conversations.transcript import append_messages, get_or_create_conversation
from gateway.channels.relay import DeliveryError, Relay
from griddesk.db import session_scope
from tests.races import race


def write(sender: str, entries: list[tuple[Author, str]], channel: str = "telegram") -> None:
    with session_scope() as session:
        conversation = get_or_create_conversation(session, sender, channel)
        append_messages(session, conversation.id, [(a, t, {"text": t}, MessageStatus.SENT) for a, t in entries])


def delivered_seq(sender: str) -> int:
    with session_scope() as session:
        return session.scalar(select(Conversation.delivered_seq).where(Conversation.sender_id == sender))


class Recorder:
    def __init__(self, fail_times: int = 0) -> None:
        self.sent: list[tuple[str, int, str]] = []
        self.fail_times = fail_times

    async def __call__(self, sender: str, message: dict) -> None:
        if self.fail_times:
            self.fail_times -= 1
            raise DeliveryError("platform said 502")
        self.sent.append((sender, message["seq"], message["text"]))


async def test_customer_facing_messages_are_sent_in_order_and_only_once(settings):
    write(
        "tg:1", [(Author.CUSTOMER, "你好"), (Author.BOT, "您好"), (Author.AGENT, "我是客服"), (Author.SYSTEM, "已转接")]
    )
    write("web-1", [(Author.CUSTOMER, "你好"), (Author.BOT, "您好")], channel="rest")
    relay, recorder = Relay(), Recorder()
    relay.register("telegram", recorder)
    assert await relay.deliver_pending() == 3
    assert await relay.deliver_pending() == 0
    assert recorder.sent == [("tg:1", 2, "您好"), ("tg:1", 3, "我是客服"), ("tg:1", 4, "已转接")]
    assert delivered_seq("tg:1") == 4 and delivered_seq("web-1") == 0  # REST is not relayed


async def test_a_failed_send_is_retried_later_without_skipping_or_repeating(settings):
    write("tg:2", [(Author.BOT, "第一条"), (Author.BOT, "第二条")])
    relay, recorder = Relay(), Recorder(fail_times=1)
    relay.register("telegram", recorder)
    assert await relay.deliver_pending() == 0
    assert delivered_seq("tg:2") == 0
    relay._retry_at.clear()  # the back-off has passed
    assert await relay.deliver_pending() == 2
    assert [seq for _, seq, _ in recorder.sent] == [1, 2]


async def test_two_relays_at_once_never_send_a_message_twice(settings):
    write("tg:3", [(Author.BOT, f"消息{i}") for i in range(20)])
    first, second = Recorder(), Recorder()
    relays = [Relay(), Relay()]
    relays[0].register("telegram", first)
    relays[1].register("telegram", second)
    await asyncio.gather(*(relay.deliver_pending() for relay in relays))
    seqs = [seq for _, seq, _ in first.sent + second.sent]
    assert sorted(seqs) == list(range(1, 21))  # each message once, none skipped
    assert delivered_seq("tg:3") == 20


async def test_new_messages_after_delivery_are_sent_on_the_next_pass(settings):
    write("tg:4", [(Author.BOT, "一")])
    relay, recorder = Relay(), Recorder()
    relay.register("telegram", recorder)
    await relay.deliver_pending()
    write("tg:4", [(Author.CUSTOMER, "在吗"), (Author.AGENT, "在的")])
    await relay.deliver_pending()
    assert [text for _, _, text in recorder.sent] == ["一", "在的"]


def test_two_relays_racing_on_their_own_connections_send_every_message_once_and_in_order(settings):
    # two gateway replicas: each relay in its own thread with its own event loop and database connections
    for n in range(5):
        write(f"tg:{n}", [(Author.CUSTOMER, "你好")] + [(Author.BOT, f"第{i}条") for i in range(1, 9)])
    relays = []
    for _ in range(2):
        relay, recorder = Relay(), Recorder()
        relay.register("telegram", recorder)
        relays.append((relay, recorder))

    def drain(relay: Relay) -> int:
        async def passes() -> int:
            sent = 0
            for _ in range(3):
                sent += await relay.deliver_pending()
            return sent

        return asyncio.run(passes())

    outcomes = race([lambda relay=relay: drain(relay) for relay, _ in relays])
    assert sum(outcomes) == 5 * 8, outcomes  # type: ignore[arg-type]
    sent = [entry for _, recorder in relays for entry in recorder.sent]
    assert sorted(sent) == sorted({(f"tg:{n}", i + 1, f"第{i}条") for n in range(5) for i in range(1, 9)})
    for _, recorder in relays:  # each relay sent its share of a conversation in order
        for n in range(5):
            seqs = [seq for sender, seq, _ in recorder.sent if sender == f"tg:{n}"]
            assert seqs == sorted(seqs)
    assert all(delivered_seq(f"tg:{n}") == 9 for n in range(5))
