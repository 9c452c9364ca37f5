"""The consoles read every label from GET /api/v1/console/labels: logged-in staff only, every value labelled."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from accounts.models import Role
from conversations.models import Owner
from gateway.app import create_app
from griddesk.db import session_scope
from grids.models import AgentStatus, CustomerTier
from handoff.models import HandoffReason, HandoffStatus
from knowledge_base.search import KnowledgeBase
from tests.accounts.conftest import PASSWORD, fast_hashing, make_staff  # noqa: F401 - fixture
from tests.encoders import HashingEncoder
from tickets.models import Category, Priority, TicketState

pytestmark = pytest.mark.usefixtures("fast_hashing")


@pytest.fixture
async def app_client(aiohttp_client, gateway_settings):
    settings = dataclasses.replace(gateway_settings, cookie_secure=False)
    kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
    with session_scope() as session:
        make_staff(session)
    return await aiohttp_client(
        create_app(settings, knowledge_base=kb, warm_index=False, watch_overdue=False, sweep_queues=False)
    )


async def test_labels_need_a_login(app_client):
    response = await app_client.get("/api/v1/console/labels")
    assert response.status == 401


@pytest.mark.parametrize(
    "kind, values",
    [
        ("role", Role),
        ("agent_status", AgentStatus),
        ("tier", CustomerTier),
        ("handoff_reason", HandoffReason),
        ("handoff_status", HandoffStatus),
        ("ticket_category", Category),
        ("ticket_state", TicketState),
        ("ticket_priority", Priority),
        ("conversation_owner", Owner),
    ],
)
async def test_every_value_of_the_domain_has_a_chinese_label(app_client, kind, values):
    response = await app_client.post("/api/v1/auth/login", json={"username": "zhang.wei", "password": PASSWORD})
    assert response.status == 200
    labels = await (await app_client.get("/api/v1/console/labels")).json()
    assert set(labels[kind]) == {str(value) for value in values}
    assert all(label and not label.isascii() for label in labels[kind].values())


def _domain_intents() -> set[str]:
    import yaml

    return set(yaml.safe_load(Path("bot/domain.yml").read_text(encoding="utf-8"))["intents"])


def _seed_skills() -> set[str]:
    staff = json.loads(Path("accounts/seed/staff.json").read_text(encoding="utf-8"))
    return {skill for person in staff for skill in person.get("skills", [])}


async def test_the_bots_intents_the_staffs_skills_and_the_actors_have_chinese_labels(app_client):
    response = await app_client.post("/api/v1/auth/login", json={"username": "zhang.wei", "password": PASSWORD})
    assert response.status == 200
    labels = await (await app_client.get("/api/v1/console/labels")).json()
    assert _domain_intents() <= set(labels["intent"])
    assert _seed_skills() <= set(labels["skill"])
    assert set(labels["actor"]) == {"customer", "bot", "system"}
    for kind in ("intent", "skill", "actor"):
        assert all(label and not label.isascii() for label in labels[kind].values())
