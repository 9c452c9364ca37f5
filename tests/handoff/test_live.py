"""What a queue change pushes to waiting customers who listen."""

from __future__ import annotations

from aiohttp import web

from conversations.hub import QUEUE_TOPIC, Hub, conversation_topic, hub_key
from griddesk import db
from griddesk.db import session_scope
from handoff import live
from handoff.live import customer_status, publish_queue_change
from tests.factories import make_handoff
from tests.handoff.helpers import NOW, later


async def test_a_queue_change_gives_each_listening_customer_their_status_in_one_session(settings, monkeypatch):
    with session_scope() as session:
        ids = {
            sender: make_handoff(session, sender, now=later(seconds=i)).conversation_id
            for i, sender in enumerate(["c1", "c2", "c3"])
        }
        make_handoff(session, "elsewhere", grid="billing", now=NOW)
    app = web.Application()
    app[hub_key] = Hub()
    listeners = {sender: app[hub_key].subscribe([conversation_topic(ids[sender])]) for sender in ("c1", "c3")}
    consoles = app[hub_key].subscribe([QUEUE_TOPIC])
    sessions = []

    async def counted(work):
        sessions.append(work)
        return await db.run_in_session(work)

    monkeypatch.setattr(live, "run_in_session", counted)
    await publish_queue_change(app, ["cd-wuhou"])
    assert len(sessions) == 2  # one to give waiting customers to free agents (none here), one for every status
    assert consoles.queue.get_nowait() == (
        QUEUE_TOPIC,
        {"type": "queue_changed", "grids": ["cd-wuhou"], "chats_only": False},
    )
    pushed = {}
    for sender, subscription in listeners.items():
        topic, event = subscription.queue.get_nowait()
        assert (topic, event) == (conversation_topic(ids[sender]), {"type": "status", **customer_status(sender)})
        assert subscription.queue.empty()
        pushed[sender] = event["position"]
    assert pushed == {"c1": 1, "c3": 3}
