"""The manager board's ticket and rating figures (issue 15): per grid the tickets per state, overdue and
awaiting approval; the customers' ratings of the last 30 days; alerts naming their ticket or chat."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import update

from accounts.models import Role
from gateway.app import create_app
from griddesk.db import session_scope, utcnow
from handoff.models import Handoff, HandoffStatus, Rating
from knowledge_base.search import KnowledgeBase
from tests.accounts.conftest import PASSWORD, fast_hashing, make_staff  # noqa: F401 - fixture
from tests.encoders import HashingEncoder
from tests.factories import make_handoff
from tests.tickets.factories import make_ticket
from tickets import service
from tickets.models import Alert, Category, Ticket, TicketState
from tickets.watch import check_overdue

pytestmark = pytest.mark.usefixtures("fast_hashing")


@pytest.fixture
async def app_client(aiohttp_client, gateway_settings):
    settings = dataclasses.replace(gateway_settings, cookie_secure=False, queue_sweep_seconds=3600)
    kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
    app = create_app(settings, knowledge_base=kb, warm_index=False, watch_overdue=False, sweep_queues=False)
    return await aiohttp_client(app)


@pytest.fixture
def staff(settings):
    with session_scope() as session:
        make_staff(session, "wang.min", Role.MANAGER, ("cd-wuhou",), display_name="王敏")
        make_staff(session, "zhang.wei", Role.AGENT, ("cd-wuhou",), display_name="张伟")
        make_staff(session, "admin", Role.ADMIN, (), display_name="系统管理员")


async def board_of(app_client, username: str) -> dict[str, dict]:
    app_client.session.cookie_jar.clear()
    response = await app_client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status == 200
    board = await (await app_client.get("/api/v1/console/manager")).json()
    return {card["code"]: card for card in board["grids"]}


def rated(sender: str, grid: str, score: int, days_ago: float = 0) -> None:
    with session_scope() as session:
        handoff = make_handoff(session, sender, grid=grid)
        handoff.status = HandoffStatus.CLOSED
        session.add(Rating(handoff_id=handoff.id, score=score, created_at=utcnow() - timedelta(days=days_ago)))


async def test_the_board_counts_each_grids_tickets_per_state_overdue_and_awaiting_approval(app_client, staff):
    with session_scope() as session:
        fresh = make_ticket(session)
        moving = make_ticket(session)
        service.transition(session, moving.number, TicketState.ANALYSING, "account:1")
        waiting = make_ticket(session, category=Category.AFTER_SALES, amount="6000")
        late = make_ticket(session)
        session.execute(update(Ticket).where(Ticket.id == late.id).values(step_due_at=utcnow() - timedelta(minutes=1)))
        done = make_ticket(session)
        session.execute(
            update(Ticket).where(Ticket.id == done.id).values(state="closed", step_due_at=utcnow() - timedelta(days=2))
        )
        make_ticket(session, region="上海市浦东新区")
        assert {fresh.grid_code, waiting.grid_code} == {"cd-wuhou"}
    card = (await board_of(app_client, "wang.min"))["cd-wuhou"]
    assert card["tickets"] == {
        "by_state": {"accepted": 3, "analysing": 1, "in_progress": 0, "resolved": 0, "closed": 1},
        "overdue": 1,  # past its step deadline, not yet marked by the watch; the closed one does not count
        "awaiting_approval": 1,
    }
    admin = await board_of(app_client, "admin")
    assert admin["sh-pudong"]["tickets"]["by_state"]["accepted"] == 1
    assert admin["cd-jinjiang"]["tickets"] == {
        "by_state": dict.fromkeys(["accepted", "analysing", "in_progress", "resolved", "closed"], 0),
        "overdue": 0,
        "awaiting_approval": 0,
    }


async def test_the_board_shows_each_grids_ratings_of_the_last_30_days(app_client, staff):
    rated("r1", "cd-wuhou", 5)
    rated("r2", "cd-wuhou", 4)
    rated("r3", "cd-wuhou", 2, days_ago=10)
    rated("r4", "cd-wuhou", 1, days_ago=31)  # too old
    rated("r5", "sh-pudong", 1)  # another grid
    board = await board_of(app_client, "admin")
    assert board["cd-wuhou"]["ratings"] == {"days": 30, "average": 3.67, "count": 3}
    assert board["sh-pudong"]["ratings"] == {"days": 30, "average": 1.0, "count": 1}
    assert board["cd-jinjiang"]["ratings"] == {"days": 30, "average": None, "count": 0}


async def test_an_overdue_alert_names_its_ticket_and_a_chat_alert_its_handoff(app_client, staff):
    with session_scope() as session:
        ticket = make_ticket(session, amount=None)
        number = ticket.number
        check_overdue(session, ticket.step_due_at + timedelta(minutes=16))
        handoff = make_handoff(session, "waiting-customer")
        session.add(Alert(grid_code="cd-wuhou", handoff_id=handoff.id, kind="chat_wait", message="有客户等待"))
        handoff_id = handoff.id
        assert session.get(Handoff, handoff_id) is not None
    alerts = (await board_of(app_client, "wang.min"))["cd-wuhou"]["alerts"]
    by_kind = {alert["kind"]: alert for alert in alerts}
    assert (by_kind["overdue"]["ticket_number"], by_kind["overdue"]["handoff_id"]) == (number, None)
    assert (by_kind["chat_wait"]["ticket_number"], by_kind["chat_wait"]["handoff_id"]) == (None, handoff_id)
