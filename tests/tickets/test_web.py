"""The tickets API: ``/api/v1/tickets…`` for staff (their console login) and integrations (the API token)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from gateway.app import create_app
from gateway.openapi import OPENAPI
from griddesk.db import session_scope
from griddesk.settings import Secret
from grids.models import Grid
from knowledge_base.search import KnowledgeBase
from tests.accounts.conftest import PASSWORD, fast_hashing, make_staff  # noqa: F401 - fixture
from tests.encoders import HashingEncoder
from tests.tickets.factories import make_ticket
from tests.tickets.staff_api import (
    AUTH,
    STAFF,
    TICKETS,
    TOKEN_ACTOR,
    Login,
    error_code,
    manager_of,
    new_ticket,
    open_ticket,
)
from tickets import service
from tickets.labels import FIELD_LABELS
from tickets.models import Category, Ticket, TicketEvent

pytestmark = pytest.mark.usefixtures("fast_hashing")


async def move(who: Login, number: str, to: str, **extra: Any):
    return await who.post(f"{TICKETS}/{number}/transition", {"to": to, **extra})


async def get(client, number: str) -> dict[str, Any]:
    """The ticket's detail as the token reads it, without the trail's reveal events (each GET records one)."""
    response = await client.get(f"{TICKETS}/{number}", headers=AUTH)
    assert response.status == 200
    return unrevealed(await response.json())


def unrevealed(body: dict[str, Any]) -> dict[str, Any]:
    """A ticket's detail without the trail's reveal events (every GET of the detail records one)."""
    return body | {"events": [e for e in body["events"] if e["kind"] != "reveal"]}


# --- opening and reading -------------------------------------------------------------------------


async def test_an_agent_opens_a_ticket_routed_to_its_grid_with_deadlines(client, agent):
    response = await agent.post(TICKETS, new_ticket())
    assert response.status == 201
    body = await response.json()
    assert response.headers["Location"] == f"{TICKETS}/{body['number']}"
    assert set(body) == set(OPENAPI["components"]["schemas"]["Ticket"]["required"]) | {"events"}
    assert body["number"].startswith("GD-")
    assert (body["category"], body["grid"], body["priority"], body["state"]) == (
        "fault",
        "cd-wuhou",
        "high",
        "accepted",
    )
    assert body["contact_phone"] == "13812345678"  # normalised by the shared field parser
    assert (body["amount_yuan"], body["needs_approval"], body["approved_by"], body["overdue"]) == (
        None,
        False,
        None,
        False,
    )
    assert body["customer_tier"] == "general" and body["version"] == 1
    for stamp in ("step_due_at", "resolve_due_at", "created_at", "updated_at"):
        assert datetime.fromisoformat(body[stamp]).utcoffset() is not None
    assert datetime.fromisoformat(body["step_due_at"]) > datetime.fromisoformat(body["created_at"])
    [created] = body["events"]
    assert created | {"at": None} == {
        "at": None,
        "actor": agent.actor,  # the logged-in account, never a name from the body
        "kind": "created",
        "from_state": None,
        "to_state": "accepted",
        "note": "",
    }


async def test_the_integration_token_opens_tickets_under_its_own_name(client, aiohttp_client, gateway_settings):
    [created] = (await open_ticket(client))["events"]
    assert created["actor"] == TOKEN_ACTOR
    settings = dataclasses.replace(gateway_settings, api_token_name="crm-sync")
    app = create_app(settings, knowledge_base=KnowledgeBase(settings, HashingEncoder()), warm_index=False)
    named = await aiohttp_client(app)
    [created] = (await open_ticket(named))["events"]
    assert created["actor"] == "integration:crm-sync"


async def test_a_key_account_ticket_goes_to_the_key_account_grid_one_priority_higher(client):
    body = await open_ticket(client, customer_tier="key", category="consultation", amount_yuan=120)
    assert (body["grid"], body["priority"], body["amount_yuan"]) == ("key-accounts", "normal", "120.00")


async def test_get_returns_the_ticket_with_its_audit_trail_oldest_first(client, agent, login):
    number = (await open_ticket(client))["number"]
    assert (await move(agent, number, "analysing", note="已联系客户")).status == 200
    manager = await login("wang.min")
    await manager.post(f"{TICKETS}/{number}/comments", {"note": "光猫需更换"})
    body = await get(client, number.lower().replace("-", ""))  # numbers are read as customers type them
    # (get() leaves out the trail's reveal events: this very GET recorded one, see the reveal tests)
    assert body["number"] == number and body["state"] == "analysing"
    assert [(e["kind"], e["actor"], e["from_state"], e["to_state"], e["note"]) for e in body["events"]] == [
        ("created", TOKEN_ACTOR, None, "accepted", ""),
        ("transition", agent.actor, "accepted", "analysing", "已联系客户"),
        ("comment", manager.actor, None, None, "光猫需更换"),
    ]
    stamps = [datetime.fromisoformat(e["at"]) for e in body["events"]]
    assert stamps == sorted(stamps)
    again = await (await agent.get(f"{TICKETS}/{number}")).json()  # staff of the grid read it too …
    assert unrevealed(again) == unrevealed(body)
    assert again["events"][-1]["kind"] == "reveal" and again["events"][-1]["actor"] == agent.actor  # … recorded


@pytest.mark.parametrize(
    "method, suffix, body",
    [
        ("GET", "", None),
        ("POST", "/transition", {"to": "analysing"}),
        ("POST", "/comments", {"note": "x"}),
        ("POST", "/approve", {}),
    ],
)
async def test_an_unknown_ticket_is_404_on_every_route(client, login, method, suffix, body):
    path = f"{TICKETS}/GD-222222{suffix}"
    for who in ("zhang.wei", "wang.min"):
        logged_in = await login(who)
        response = await (logged_in.get(path) if method == "GET" else logged_in.post(path, body))
        assert response.status == 404
        assert await error_code(response) == "ticket_not_found"
    if method == "GET":
        response = await client.get(path, headers=AUTH)
        assert response.status == 404
        assert await error_code(response) == "ticket_not_found"


# --- listing -----------------------------------------------------------------------------------


async def test_list_filters_by_grid_state_priority_and_overdue_with_paging(client, agent):
    wuhou_fault = await open_ticket(client)
    wuhou_advice = await open_ticket(client, category="consultation", description="想了解一下套餐资费")
    pudong = await open_ticket(client, region="上海市浦东新区", category="complaint", description="装机师傅迟到两小时")
    assert (await move(agent, wuhou_advice["number"], "analysing")).status == 200
    with session_scope() as session:
        session.execute(update(Ticket).where(Ticket.number == pudong["number"]).values(overdue=True))

    async def numbers(**params: str) -> tuple[int, list[str]]:
        response = await client.get(TICKETS, params=params, headers=AUTH)
        assert response.status == 200
        body = await response.json()
        return body["total"], [t["number"] for t in body["items"]]

    total, everything = await numbers()  # the token reads every grid's tickets
    assert total == 3
    assert everything == [wuhou_fault["number"], pudong["number"], wuhou_advice["number"]]  # high first, then low
    assert await numbers(grid="cd-wuhou") == (2, [wuhou_fault["number"], wuhou_advice["number"]])
    assert await numbers(state="analysing") == (1, [wuhou_advice["number"]])
    assert await numbers(priority="low") == (1, [wuhou_advice["number"]])
    assert await numbers(overdue="true") == (1, [pudong["number"]])
    assert (await numbers(overdue="false"))[0] == 2
    assert await numbers(grid="cd-wuhou", state="accepted") == (1, [wuhou_fault["number"]])
    assert await numbers(grid="no-such-grid") == (0, [])
    assert await numbers(limit="1", offset="1") == (3, [pudong["number"]])
    assert await numbers(offset="10") == (3, [])


async def test_a_staff_login_lists_only_the_tickets_of_their_grids(client, login):
    wuhou = (await open_ticket(client))["number"]
    pudong = (await open_ticket(client, region="上海市浦东新区"))["number"]

    async def numbers(who: Login, **params: str) -> tuple[int, set[str]]:
        response = await who.get(TICKETS, params=params)
        assert response.status == 200
        body = await response.json()
        return body["total"], {t["number"] for t in body["items"]}

    wuhou_agent, pudong_agent, admin = await login("zhang.wei"), await login("huang.lei"), await login("admin")
    assert await numbers(wuhou_agent) == (1, {wuhou})
    assert await numbers(wuhou_agent, grid="sh-pudong") == (0, set())  # another grid's filter finds nothing
    assert await numbers(pudong_agent) == (1, {pudong})
    assert await numbers(await login("li.qiang")) == (0, set())  # a manager sees their own grid only
    assert await numbers(admin) == (2, {wuhou, pudong})
    assert await numbers(admin, grid="sh-pudong") == (1, {pudong})


async def test_staff_read_a_ticket_of_their_grids_only_admins_any(client, login):
    number = (await open_ticket(client))["number"]
    outsider = await login("huang.lei")
    response = await outsider.get(f"{TICKETS}/{number}")
    assert response.status == 403
    assert await error_code(response) == "forbidden"
    assert (await response.json())["error"]["message"] == "这张工单不属于您的网格。"
    assert (await (await login("admin")).get(f"{TICKETS}/{number}")).status == 200


async def test_any_staff_member_may_open_a_ticket_for_another_grid_it_goes_where_it_belongs(client, login):
    outsider = await login("huang.lei")  # an agent of 上海浦东网格 takes a call from 成都
    response = await outsider.post(TICKETS, new_ticket())
    assert response.status == 201
    body = await response.json()
    assert body["grid"] == "cd-wuhou" and body["events"][0]["actor"] == outsider.actor
    assert (await outsider.get(f"{TICKETS}/{body['number']}")).status == 403  # after that, it is not theirs


async def test_list_items_are_ticket_json_without_the_trail(client):
    await open_ticket(client, amount_yuan="5,000元")
    body = await (await client.get(TICKETS, headers=AUTH)).json()
    [item] = body["items"]
    assert set(item) == set(OPENAPI["components"]["schemas"]["Ticket"]["required"])
    assert (item["amount_yuan"], item["needs_approval"]) == ("5000.00", True)


# --- contact details: masked in lists, in full (and audited) when a ticket is opened ---------------


async def test_the_list_masks_contact_phones_and_names(client):
    await open_ticket(client, contact_phone="13800138000", contact_name="欧阳娜娜")
    await open_ticket(client, contact_phone="028-8555-1234", contact_name="王先生")
    body = await (await client.get(TICKETS, headers=AUTH)).json()
    assert sorted((t["contact_phone"], t["contact_name"]) for t in body["items"]) == [
        ("028****1234", "王**"),
        ("138****8000", "欧***"),
    ]
    with session_scope() as session:
        assert session.scalar(select(TicketEvent.id).where(TicketEvent.kind == "reveal")) is None


async def test_opening_a_ticket_shows_its_contact_in_full_and_records_who_saw_it(client, agent):
    number = (await open_ticket(client, contact_phone="13800138000", contact_name="欧阳娜娜"))["number"]
    response = await agent.get(f"{TICKETS}/{number}")
    assert response.status == 200
    body = await response.json()
    assert (body["contact_phone"], body["contact_name"]) == ("13800138000", "欧阳娜娜")
    reveal = body["events"][-1]
    assert (reveal["kind"], reveal["actor"], reveal["note"]) == ("reveal", agent.actor, "查看了联系电话、联系人姓名")
    assert datetime.fromisoformat(reveal["at"]).utcoffset() is not None
    with session_scope() as session:
        [stored] = session.scalars(select(TicketEvent).where(TicketEvent.kind == "reveal")).all()
        assert (stored.actor, stored.note) == (agent.actor, "查看了联系电话、联系人姓名")
    assert "13800138000" not in json.dumps(reveal, ensure_ascii=False)  # the trail names fields, not values


async def test_a_reveal_by_the_token_is_recorded_against_its_name_whatever_the_query_says(client):
    number = (await open_ticket(client))["number"]
    await client.get(f"{TICKETS}/{number}", params={"actor": "王敏"}, headers=AUTH)
    with session_scope() as session:
        assert session.scalars(select(TicketEvent.actor).where(TicketEvent.kind == "reveal")).all() == [TOKEN_ACTOR]


async def test_changes_answer_with_the_contact_masked_and_reveal_nothing(client, agent):
    number = (await open_ticket(client, contact_phone="13800138000", contact_name="张三"))["number"]
    moved = await (await move(agent, number, "analysing")).json()
    commented = await (await agent.post(f"{TICKETS}/{number}/comments", {"note": "先查线路"})).json()
    for body in (moved, commented):
        assert (body["contact_phone"], body["contact_name"]) == ("138****8000", "张*")
        assert all(e["kind"] != "reveal" for e in body["events"])


# --- the service flow ----------------------------------------------------------------------------


async def test_a_ticket_moves_through_the_service_flow_step_by_step(client, agent):
    number = (await open_ticket(client))["number"]
    for version, state in enumerate(["analysing", "in_progress", "resolved", "closed"], start=2):
        response = await move(agent, number, state, version=version - 1)
        assert response.status == 200
        body = await response.json()
        assert (body["state"], body["version"]) == (state, version)
    assert body["step_due_at"] is None  # a closed ticket has no next deadline
    assert [e["to_state"] for e in body["events"] if e["kind"] == "transition"] == [
        "analysing",
        "in_progress",
        "resolved",
        "closed",
    ]
    assert {e["actor"] for e in body["events"] if e["kind"] == "transition"} == {agent.actor}


async def test_a_resolved_ticket_can_be_reopened(client, agent):
    number = (await open_ticket(client))["number"]
    for state in ("analysing", "in_progress", "resolved", "in_progress"):
        assert (await move(agent, number, state)).status == 200
    assert (await get(client, number))["state"] == "in_progress"


@pytest.mark.parametrize(
    "path, refused",
    [
        ([], "resolved"),
        ([], "accepted"),
        (["analysing"], "closed"),
        (["analysing", "in_progress", "resolved", "closed"], "in_progress"),
    ],
)
async def test_a_step_outside_the_flow_is_refused_and_changes_nothing(client, agent, path, refused):
    number = (await open_ticket(client))["number"]
    for state in path:
        assert (await move(agent, number, state)).status == 200
    before = unrevealed(await get(client, number))
    response = await move(agent, number, refused)
    assert response.status == 409
    assert await error_code(response) == "transition_not_allowed"
    assert unrevealed(await get(client, number)) == before


async def test_a_transition_with_a_stale_version_is_a_conflict(client, agent, login):
    number = (await open_ticket(client))["number"]
    await (await login("wang.min")).post(f"{TICKETS}/{number}/comments", {"note": "先查线路"})
    response = await move(agent, number, "analysing", version=1)  # the comment made it version 2
    assert response.status == 409
    assert await error_code(response) == "ticket_conflict"
    assert (await move(agent, number, "analysing", version=2)).status == 200


async def test_a_comment_is_added_to_the_trail_and_bumps_the_version(client, agent):
    number = (await open_ticket(client))["number"]
    response = await agent.post(f"{TICKETS}/{number}/comments", {"note": " 客户下午在家 "})
    assert response.status == 201
    body = await response.json()
    assert body["version"] == 2 and body["state"] == "accepted"
    assert body["events"][-1] | {"at": None} == {
        "at": None,
        "actor": agent.actor,
        "kind": "comment",
        "from_state": None,
        "to_state": None,
        "note": "客户下午在家",
    }


# --- who may do what -------------------------------------------------------------------------------


def stored_ticket(**kwargs: Any) -> str:
    """A ticket of 成都武侯网格 put in the database directly (as the chat would open it)."""
    with session_scope() as session:
        return make_ticket(session, **kwargs).number


async def test_an_agent_of_another_grid_cannot_move_or_comment_on_a_ticket(client, login):
    number = stored_ticket()  # 成都武侯网格
    before = await get(client, number)
    outsider = await login("huang.lei")  # 上海浦东网格
    for response in (
        await move(outsider, number, "analysing"),
        await outsider.post(f"{TICKETS}/{number}/comments", {"note": "我来处理"}),
    ):
        assert response.status == 403
        assert await error_code(response) == "forbidden"
    assert await get(client, number) == before
    admin = await login("admin")  # admins act on every grid's tickets
    response = await move(admin, number, "analysing")
    assert response.status == 200
    assert (await response.json())["events"][-1]["actor"] == admin.actor


async def test_the_integration_token_reads_and_opens_but_never_changes_a_ticket(client):
    number = stored_ticket(category=Category.AFTER_SALES, amount="5000")
    assert (await client.get(TICKETS, headers=AUTH)).status == 200
    before = await get(client, number)
    for suffix, body in [
        ("/transition", {"to": "analysing"}),
        ("/comments", {"note": "已联系客户"}),
        ("/approve", {"note": "同意"}),
    ]:
        response = await client.post(f"{TICKETS}/{number}{suffix}", json=body, headers=AUTH)
        assert response.status == 403
        error = (await response.json())["error"]
        assert error["code"] == "staff_login_required"
        assert error["message"] == "集成令牌只能查询和登记工单；办理、评论和审批工单须由工作人员登录控制台后操作。"
    assert await get(client, number) == before
    assert (await client.post(TICKETS, json=new_ticket(), headers=AUTH)).status == 201


async def test_a_body_actor_cannot_change_who_is_recorded(client, agent):
    number = stored_ticket()
    before = await get(client, number)
    for response in (
        await move(agent, number, "analysing", actor="王敏"),
        await agent.post(f"{TICKETS}/{number}/comments", {"note": "已联系客户", "actor": "王敏"}),
        await agent.post(TICKETS, new_ticket(actor="王敏")),
        await client.post(TICKETS, json=new_ticket(actor="王敏"), headers=AUTH),
    ):
        assert response.status == 422
        error = (await response.json())["error"]
        assert error["code"] == "invalid_field" and error["field"] == "actor"
        assert error["message"].startswith("操作人：不能由请求指定")
    assert await get(client, number) == before
    assert (await (await client.get(TICKETS, headers=AUTH)).json())["total"] == 1
    response = await move(agent, number, "analysing")
    assert (await response.json())["events"][-1]["actor"] == agent.actor


async def test_a_staff_change_without_the_csrf_token_is_refused(client, agent):
    number = (await open_ticket(client))["number"]
    before = await get(client, number)
    for suffix, body in [("/transition", {"to": "analysing"}), ("/comments", {"note": "x"})]:
        response = await agent.post(f"{TICKETS}/{number}{suffix}", body, csrf=False)
        assert response.status == 403
        assert await error_code(response) == "csrf"
    response = await agent.post(TICKETS, new_ticket(), csrf=False)
    assert response.status == 403 and await error_code(response) == "csrf"
    assert await get(client, number) == before


async def test_with_an_authorization_header_only_the_token_counts_not_the_login(client, agent):
    number = (await open_ticket(client))["number"]
    response = await agent.http.post(
        client.make_url(f"{TICKETS}/{number}/transition"),
        json={"to": "analysing"},
        headers={"X-CSRF-Token": agent.csrf, "Authorization": "Bearer wrong"},
    )
    assert response.status == 401 and await error_code(response) == "unauthorized"


# --- approval ----------------------------------------------------------------------------------


async def test_a_high_value_ticket_is_resolved_only_after_its_grid_manager_approves(client, agent, login):
    ticket = await open_ticket(client, category="after_sales", description="设备损坏要求赔偿", amount_yuan=5000)
    number, grid = ticket["number"], ticket["grid"]
    assert (grid, ticket["needs_approval"]) == ("cd-wuhou", True)
    assert manager_of(grid) == STAFF["wang.min"][2]
    for state in ("analysing", "in_progress"):
        assert (await move(agent, number, state)).status == 200

    refused = await move(agent, number, "resolved")
    assert refused.status == 409
    assert await error_code(refused) == "approval_required"

    assert manager_of("cd-jinjiang") == STAFF["li.qiang"][2]
    for outsider in (agent, await login("li.qiang")):
        response = await outsider.post(f"{TICKETS}/{number}/approve", {})
        assert response.status == 403
        assert await error_code(response) == "not_approver"
    assert (await get(client, number))["approved_by"] is None

    manager = await login("wang.min")
    response = await manager.post(f"{TICKETS}/{number}/approve", {"note": "同意赔偿"})
    assert response.status == 200
    approved = await response.json()
    assert approved["approved_by"] == manager.actor == f"account:{manager.account_id}"
    assert approved["events"][-1]["kind"] == "approval" and approved["events"][-1]["actor"] == manager.actor

    resolved = await move(agent, number, "resolved")
    assert resolved.status == 200
    assert (await resolved.json())["state"] == "resolved"


async def test_the_api_token_cannot_approve_even_naming_the_grid_manager(client, agent):
    """Issue 12 finding 8: anyone holding the token approved ≥ 5000 by sending the manager's name."""
    number = stored_ticket(category=Category.AFTER_SALES, amount="5000")
    for body in ({"actor": manager_of("cd-wuhou"), "note": "同意赔偿"}, {"note": "同意赔偿"}):
        response = await client.post(f"{TICKETS}/{number}/approve", json=body, headers=AUTH)
        assert response.status == 403
        assert await error_code(response) == "staff_login_required"
    assert (await get(client, number))["approved_by"] is None
    assert [e["kind"] for e in (await get(client, number))["events"]] == ["created"]
    for state in ("analysing", "in_progress"):
        assert (await move(agent, number, state)).status == 200
    refused = await move(agent, number, "resolved")
    assert refused.status == 409 and await error_code(refused) == "approval_required"


async def test_only_the_manager_the_grid_names_approves_not_an_admin_nor_another_manager_of_it(client, login):
    number = (await open_ticket(client, category="after_sales", description="设备损坏要求赔偿", amount_yuan=8000))[
        "number"
    ]
    for username in ("admin", "deputy.wu"):
        response = await (await login(username)).post(f"{TICKETS}/{number}/approve", {})
        assert response.status == 403
        assert await error_code(response) == "not_approver"
    with session_scope() as session:  # the grid may name its manager by username (unambiguous)
        session.execute(update(Grid).where(Grid.code == "cd-wuhou").values(manager="deputy.wu"))
    deputy = await login("deputy.wu")
    assert (await (await login("wang.min")).post(f"{TICKETS}/{number}/approve", {})).status == 403
    response = await deputy.post(f"{TICKETS}/{number}/approve", {})
    assert response.status == 200
    assert (await response.json())["approved_by"] == deputy.actor


async def test_below_the_approval_threshold_the_agent_resolves_alone(client, agent):
    number = (await open_ticket(client, category="after_sales", amount_yuan="4999.99"))["number"]
    for state in ("analysing", "in_progress", "resolved"):
        assert (await move(agent, number, state)).status == 200


# --- protection ----------------------------------------------------------------------------------

ROUTES = [
    ("GET", TICKETS, None),
    ("POST", TICKETS, new_ticket()),
    ("GET", f"{TICKETS}/GD-222222", None),
    ("POST", f"{TICKETS}/GD-222222/transition", {"to": "analysing"}),
    ("POST", f"{TICKETS}/GD-222222/comments", {"note": "x"}),
    ("POST", f"{TICKETS}/GD-222222/approve", {}),
]


@pytest.mark.parametrize("method, path, body", ROUTES)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "test-token"},
        {"Authorization": "Basic dGVzdC10b2tlbg=="},
    ],
)
async def test_every_ticket_route_requires_a_login_or_the_api_token(client, method, path, body, headers):
    response = await client.request(method, path, json=body, headers=headers)
    assert response.status == 401
    assert await error_code(response) == "unauthorized"
    with session_scope() as session:
        assert session.scalar(select(Ticket.id)) is None


async def test_the_ticket_routes_are_disabled_for_the_token_without_a_configured_one(
    aiohttp_client, gateway_settings, staff
):
    settings = dataclasses.replace(gateway_settings, api_token=Secret(""), cookie_secure=False)
    app = create_app(settings, knowledge_base=KnowledgeBase(settings, HashingEncoder()), warm_index=False)
    client = await aiohttp_client(app)
    for method, path, body in ROUTES:
        response = await client.request(method, path, json=body, headers={"Authorization": "Bearer "})
        assert response.status == 403
        assert await error_code(response) == "api_disabled"
    response = await client.post("/api/v1/auth/login", json={"username": "zhang.wei", "password": PASSWORD})
    csrf = (await response.json())["csrf_token"]
    opened = await client.post(TICKETS, json=new_ticket(), headers={"X-CSRF-Token": csrf})
    assert opened.status == 201  # staff logins do not depend on the integration token


DOOR_CODES = {"unauthorized", "api_disabled", "csrf", "staff_login_required"}


async def past_the_door(response) -> bool:
    return response.status not in (401, 403) or await error_code(response) not in DOOR_CODES


def _declared_schemes() -> list[tuple[str, str, set[str]]]:
    return [
        (method.upper(), path, {name for scheme in operation["security"] for name in scheme})
        for path, operations in OPENAPI["paths"].items()
        if path.startswith(TICKETS)
        for method, operation in operations.items()
    ]


async def test_each_ticket_route_accepts_exactly_the_schemes_the_openapi_document_declares(client, agent):
    """The document's ``security`` is the truth: ``bearer`` iff the token gets past the door, ``session`` iff
    a login does (past the door = any answer but a refusal of who is asking, such as not_approver)."""
    number = (await open_ticket(client))["number"]
    bodies = {"transition": {"to": "analysing"}, "comments": {"note": "x"}, "approve": {}}
    declared = _declared_schemes()
    assert len(declared) == 6
    for method, path, schemes in declared:
        url = path.replace("{number}", number)
        body = new_ticket() if url == TICKETS else bodies.get(url.rsplit("/", 1)[-1])
        by_token = await client.request(method, url, json=body if method == "POST" else None, headers=AUTH)
        by_login = await (agent.get(url) if method == "GET" else agent.post(url, body))
        assert await past_the_door(by_token) == ("bearer" in schemes), (method, path, by_token.status)
        assert await past_the_door(by_login) == ("session" in schemes), (method, path, by_login.status)


# --- bad input -----------------------------------------------------------------------------------

NESTED = "[" * 20_000


@pytest.mark.parametrize(
    "raw, status, code",
    [
        (b"", 400, "invalid_json"),
        (b"not json", 400, "invalid_json"),
        (b'["a list"]', 400, "invalid_body"),
        (b"\xff\xfe{}", 400, "invalid_encoding"),
        (b'{"amount_yuan": NaN}', 400, "invalid_json"),
        (NESTED[:8000].encode(), 400, "invalid_json"),
        (json.dumps(new_ticket(description="长" * 9000), ensure_ascii=False).encode(), 413, "payload_too_large"),
        (b'{"description": "' + b"x" * 400_000 + b'"}', 413, "payload_too_large"),
    ],
)
async def test_a_malformed_or_huge_body_is_refused(client, raw, status, code):
    response = await client.post(TICKETS, data=raw, headers=AUTH | {"Content-Type": "application/json"})
    assert response.status == status
    assert await error_code(response) == code
    assert (await (await client.get(TICKETS, headers=AUTH)).json())["total"] == 0


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"category": None}, "category"),
        ({"category": "维修"}, "category"),
        ({"category": ["fault"]}, "category"),
        ({"description": None}, "description"),
        ({"description": 12345}, "description"),
        ({"description": "断网"}, "description"),
        ({"description": "断" * 1001}, "description"),
        ({"contact_phone": "12345"}, "contact_phone"),
        ({"contact_phone": 13812345678}, "contact_phone"),
        ({"contact_name": "张3"}, "contact_name"),
        ({"contact_name": ""}, "contact_name"),
        ({"region": "abc"}, "region"),
        ({"region": None}, "region"),
        ({"amount_yuan": "NaN"}, "amount_yuan"),
        ({"amount_yuan": "很多"}, "amount_yuan"),
        ({"amount_yuan": -5}, "amount_yuan"),
        ({"amount_yuan": 0}, "amount_yuan"),
        ({"amount_yuan": "0.001"}, "amount_yuan"),
        ({"amount_yuan": 1e20}, "amount_yuan"),
        ({"amount_yuan": True}, "amount_yuan"),
        ({"amount_yuan": {"value": 5000}}, "amount_yuan"),
        ({"customer_tier": "vip"}, "customer_tier"),
        ({"customer_tier": 1}, "customer_tier"),
        ({"customer_tier": ""}, "customer_tier"),
        ({"actor": "客服小李"}, "actor"),  # who opens is the token's name or the login, never the body's
        ({"actor": "   "}, "actor"),
        ({"actor": "a" * 129}, "actor"),
        ({"actor": "客服\x00小李"}, "actor"),
        ({"actor": 7}, "actor"),
        ({"amount": 5000}, "amount"),  # a misspelt optional field must not be dropped silently
    ],
)
async def test_an_invalid_new_ticket_field_is_named_in_a_422(client, overrides, field):
    response = await client.post(TICKETS, json=new_ticket(**overrides), headers=AUTH)
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "invalid_field" and error["field"] == field
    assert FIELD_LABELS.get(field, f"「{field}」") in error["message"]  # people read the Chinese label
    assert (await (await client.get(TICKETS, headers=AUTH)).json())["total"] == 0


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"category": None}, "问题类别：缺少必填字段。"),
        ({"contact_phone": "12345"}, "联系电话：不是有效的手机号或带区号的固定电话。"),
        ({"description": "断网"}, "问题描述：太短，至少 4 个字。"),
        ({"customer_tier": "vip"}, "客户类别：请从一般客户（general）、重要客户（key）、潜在客户（prospect）中选择。"),
        ({"actor": "王敏"}, "操作人：不能由请求指定，系统按登录的工作人员账号或集成令牌的名称记录操作人。"),
    ],
)
async def test_the_422_message_says_which_field_and_why_in_chinese(client, overrides, message):
    response = await client.post(TICKETS, json=new_ticket(**overrides), headers=AUTH)
    assert (await response.json())["error"]["message"] == message


@pytest.mark.parametrize(
    "suffix, body, field",
    [
        ("/transition", {}, "to"),
        ("/transition", {"to": "done"}, "to"),
        ("/transition", {"to": 3}, "to"),
        ("/transition", {"to": "ANALYSING"}, "to"),
        ("/transition", {"to": "analysing", "actor": "a"}, "actor"),
        ("/transition", {"to": "analysing", "version": "1"}, "version"),
        ("/transition", {"to": "analysing", "version": True}, "version"),
        ("/transition", {"to": "analysing", "version": 0}, "version"),
        ("/transition", {"to": "analysing", "version": 1.5}, "version"),
        ("/transition", {"to": "analysing", "note": ["x"]}, "note"),
        ("/transition", {"to": "analysing", "state": "x"}, "state"),
        ("/comments", {}, "note"),
        ("/comments", {"note": " "}, "note"),
        ("/comments", {"note": "长" * 2001}, "note"),
        ("/comments", {"note": "x", "actor": "a"}, "actor"),
        ("/approve", {"actor": "王敏"}, "actor"),
        ("/approve", {"note": 5}, "note"),
    ],
)
async def test_an_invalid_change_is_named_in_a_422_and_changes_nothing(client, login, suffix, body, field):
    number = (await open_ticket(client))["number"]
    before = unrevealed(await get(client, number))
    who = await login("wang.min")  # the grid's manager: allowed every change, so only the body is at fault
    response = await who.post(f"{TICKETS}/{number}{suffix}", body)
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "invalid_field" and error["field"] == field
    assert unrevealed(await get(client, number)) == before


@pytest.mark.parametrize("suffix", ["/transition", "/comments", "/approve"])
@pytest.mark.parametrize("raw, code", [(b"{", "invalid_json"), (b"null", "invalid_body"), (b"42", "invalid_body")])
async def test_a_change_with_a_body_that_is_not_a_json_object_is_400(client, agent, suffix, raw, code):
    number = (await open_ticket(client))["number"]
    response = await agent.post(f"{TICKETS}/{number}{suffix}", data=raw)
    assert response.status == 400
    assert await error_code(response) == code


@pytest.mark.parametrize(
    "params",
    [
        {"state": "done"},
        {"state": "ACCEPTED"},
        {"priority": "p1"},
        {"overdue": "yes"},
        {"overdue": "1"},
        {"limit": "0"},
        {"limit": "201"},
        {"limit": "ten"},
        {"limit": "1e2"},
        {"limit": "-1"},
        {"offset": "-1"},
        {"offset": "9" * 5000},
        {"grid": "g" * 65},
        {"sort": "created_at"},
    ],
)
async def test_a_bad_list_filter_is_400(client, params):
    response = await client.get(TICKETS, params=params, headers=AUTH)
    assert response.status == 400
    assert await error_code(response) == "invalid_parameter"


async def test_the_largest_page_is_200_tickets(client):
    response = await client.get(TICKETS, params={"limit": "200"}, headers=AUTH)
    assert response.status == 200
    assert await response.json() == {"total": 0, "items": []}


# --- concurrency ---------------------------------------------------------------------------------


def transition_events(number: str) -> list[TicketEvent]:
    with session_scope() as session:
        ticket = service.get_ticket(session, number)
        return [e for e in service.history(session, ticket) if e.kind == "transition"]


async def test_two_simultaneous_transitions_of_one_ticket_let_exactly_one_through(client, agent, login):
    number = (await open_ticket(client))["number"]
    other = await login("li.na")
    responses = await asyncio.gather(move(agent, number, "analysing"), move(other, number, "analysing"))
    statuses = sorted(r.status for r in responses)
    assert statuses == [200, 409]
    [loser] = [r for r in responses if r.status == 409]
    assert await error_code(loser) in {"ticket_conflict", "transition_not_allowed"}
    [event] = transition_events(number)
    winner = next(r for r in responses if r.status == 200)
    assert event.actor == (await winner.json())["events"][-1]["actor"]
    assert (await get(client, number))["version"] == 2


async def test_two_transitions_that_both_read_the_same_version_end_in_one_conflict(client, agent, login, monkeypatch):
    """Both requests load the ticket before either writes: the version guard must stop the second."""
    number = (await open_ticket(client))["number"]
    other = await login("li.na")
    both_loaded = threading.Barrier(2, timeout=10)
    original = service.get_ticket

    def get_then_wait(session, wanted):
        ticket = original(session, wanted)
        both_loaded.wait()
        return ticket

    monkeypatch.setattr(service, "get_ticket", get_then_wait)
    responses = await asyncio.gather(move(agent, number, "analysing"), move(other, number, "analysing"))
    monkeypatch.setattr(service, "get_ticket", original)
    assert sorted(r.status for r in responses) == [200, 409]
    [loser] = [r for r in responses if r.status == 409]
    assert await error_code(loser) == "ticket_conflict"
    assert len(transition_events(number)) == 1
    body = await get(client, number)
    assert (body["state"], body["version"]) == ("analysing", 2)
