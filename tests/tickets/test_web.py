"""The tickets API: ``/api/v1/tickets…`` for agents and consoles."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from gateway.app import create_app
from gateway.openapi import OPENAPI
from griddesk.db import session_scope
from griddesk.settings import Secret
from knowledge_base.search import KnowledgeBase
from tests.encoders import HashingEncoder
from tickets import service
from tickets.labels import FIELD_LABELS
from tickets.models import Ticket, TicketEvent

TICKETS = "/api/v1/tickets"
AUTH = {"Authorization": "Bearer test-token"}
SEED_GRIDS = Path(__file__).resolve().parents[2] / "grids" / "seed" / "grids.json"


def manager_of(grid_code: str) -> str:
    """The grid manager named in the seed file."""
    return next(g["manager"] for g in json.loads(SEED_GRIDS.read_text("utf-8")) if g["code"] == grid_code)


def new_ticket(**overrides: Any) -> dict[str, Any]:
    body = {
        "category": "fault",
        "description": "宽带一直断网, 重启光猫也没用",
        "contact_phone": "138-1234-5678",
        "contact_name": "张三",
        "region": "成都市武侯区",
        "actor": "客服小李",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


async def open_ticket(client, **overrides: Any) -> dict[str, Any]:
    response = await client.post(TICKETS, json=new_ticket(**overrides), headers=AUTH)
    assert response.status == 201, await response.text()
    return await response.json()


async def move(client, number: str, to: str, actor: str = "客服小李", **extra: Any):
    return await client.post(f"{TICKETS}/{number}/transition", json={"to": to, "actor": actor, **extra}, headers=AUTH)


async def get(client, number: str) -> dict[str, Any]:
    response = await client.get(f"{TICKETS}/{number}", headers=AUTH)
    assert response.status == 200
    return await response.json()


def unrevealed(body: dict[str, Any]) -> dict[str, Any]:
    """A ticket's detail without the trail's reveal events (every GET of the detail records one)."""
    return body | {"events": [e for e in body["events"] if e["kind"] != "reveal"]}


async def error_code(response) -> str:
    return (await response.json())["error"]["code"]


# --- opening and reading -------------------------------------------------------------------------


async def test_an_agent_opens_a_ticket_routed_to_its_grid_with_deadlines(client):
    response = await client.post(TICKETS, json=new_ticket(), headers=AUTH)
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
        "actor": "客服小李",
        "kind": "created",
        "from_state": None,
        "to_state": "accepted",
        "note": "",
    }


async def test_a_key_account_ticket_goes_to_the_key_account_grid_one_priority_higher(client):
    body = await open_ticket(client, customer_tier="key", category="consultation", amount_yuan=120)
    assert (body["grid"], body["priority"], body["amount_yuan"]) == ("key-accounts", "normal", "120.00")


async def test_get_returns_the_ticket_with_its_audit_trail_oldest_first(client):
    number = (await open_ticket(client))["number"]
    assert (await move(client, number, "analysing", note="已联系客户")).status == 200
    await client.post(
        f"{TICKETS}/{number}/comments", json={"actor": "技术支持老王", "note": "光猫需更换"}, headers=AUTH
    )
    body = await get(client, number.lower().replace("-", ""))  # numbers are read as customers type them
    assert body["number"] == number and body["state"] == "analysing"
    assert [(e["kind"], e["actor"], e["from_state"], e["to_state"], e["note"]) for e in body["events"]] == [
        ("created", "客服小李", None, "accepted", ""),
        ("transition", "客服小李", "accepted", "analysing", "已联系客户"),
        ("comment", "技术支持老王", None, None, "光猫需更换"),
        ("reveal", "integration-api", None, None, "查看了联系电话、联系人姓名"),  # this very GET
    ]
    stamps = [datetime.fromisoformat(e["at"]) for e in body["events"]]
    assert stamps == sorted(stamps)


@pytest.mark.parametrize(
    "method, suffix, body",
    [
        ("GET", "", None),
        ("POST", "/transition", {"to": "analysing", "actor": "a"}),
        ("POST", "/comments", {"actor": "a", "note": "x"}),
        ("POST", "/approve", {"actor": "a"}),
    ],
)
async def test_an_unknown_ticket_is_404_on_every_route(client, method, suffix, body):
    response = await client.request(method, f"{TICKETS}/GD-222222{suffix}", json=body, headers=AUTH)
    assert response.status == 404
    assert await error_code(response) == "ticket_not_found"


# --- listing -----------------------------------------------------------------------------------


async def test_list_filters_by_grid_state_priority_and_overdue_with_paging(client):
    wuhou_fault = await open_ticket(client)
    wuhou_advice = await open_ticket(client, category="consultation", description="想了解一下套餐资费")
    pudong = await open_ticket(client, region="上海市浦东新区", category="complaint", description="装机师傅迟到两小时")
    assert (await move(client, wuhou_advice["number"], "analysing")).status == 200
    with session_scope() as session:
        session.execute(update(Ticket).where(Ticket.number == pudong["number"]).values(overdue=True))

    async def numbers(**params: str) -> tuple[int, list[str]]:
        response = await client.get(TICKETS, params=params, headers=AUTH)
        assert response.status == 200
        body = await response.json()
        return body["total"], [t["number"] for t in body["items"]]

    total, everything = await numbers()
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


async def test_opening_a_ticket_shows_its_contact_in_full_and_records_who_saw_it(client):
    number = (await open_ticket(client, contact_phone="13800138000", contact_name="欧阳娜娜"))["number"]
    response = await client.get(f"{TICKETS}/{number}", params={"actor": "客服小李"}, headers=AUTH)
    assert response.status == 200
    body = await response.json()
    assert (body["contact_phone"], body["contact_name"]) == ("13800138000", "欧阳娜娜")
    reveal = body["events"][-1]
    assert (reveal["kind"], reveal["actor"], reveal["note"]) == ("reveal", "客服小李", "查看了联系电话、联系人姓名")
    assert datetime.fromisoformat(reveal["at"]).utcoffset() is not None
    with session_scope() as session:
        [stored] = session.scalars(select(TicketEvent).where(TicketEvent.kind == "reveal")).all()
        assert (stored.actor, stored.note) == ("客服小李", "查看了联系电话、联系人姓名")
    assert "13800138000" not in json.dumps(reveal, ensure_ascii=False)  # the trail names fields, not values


async def test_a_reveal_without_a_named_actor_is_recorded_against_the_integration_api(client):
    number = (await open_ticket(client))["number"]
    await get(client, number)
    with session_scope() as session:
        assert session.scalars(select(TicketEvent.actor).where(TicketEvent.kind == "reveal")).all() == [
            "integration-api"
        ]


@pytest.mark.parametrize("actor", ["", " ", "a" * 129, "客服\x00小李"])
async def test_a_reveal_with_an_invalid_actor_is_refused_and_shows_nothing(client, actor):
    number = (await open_ticket(client))["number"]
    response = await client.get(f"{TICKETS}/{number}", params={"actor": actor}, headers=AUTH)
    assert response.status == 422
    assert (await response.json())["error"]["field"] == "actor"


async def test_changes_answer_with_the_contact_masked_and_reveal_nothing(client):
    number = (await open_ticket(client, contact_phone="13800138000", contact_name="张三"))["number"]
    moved = await (await move(client, number, "analysing")).json()
    commented = await (
        await client.post(f"{TICKETS}/{number}/comments", json={"actor": "组长", "note": "先查线路"}, headers=AUTH)
    ).json()
    for body in (moved, commented):
        assert (body["contact_phone"], body["contact_name"]) == ("138****8000", "张*")
        assert all(e["kind"] != "reveal" for e in body["events"])


# --- the service flow ----------------------------------------------------------------------------


async def test_a_ticket_moves_through_the_service_flow_step_by_step(client):
    number = (await open_ticket(client))["number"]
    for version, state in enumerate(["analysing", "in_progress", "resolved", "closed"], start=2):
        response = await move(client, number, state, version=version - 1)
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


async def test_a_resolved_ticket_can_be_reopened(client):
    number = (await open_ticket(client))["number"]
    for state in ("analysing", "in_progress", "resolved", "in_progress"):
        assert (await move(client, number, state)).status == 200
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
async def test_a_step_outside_the_flow_is_refused_and_changes_nothing(client, path, refused):
    number = (await open_ticket(client))["number"]
    for state in path:
        assert (await move(client, number, state)).status == 200
    before = unrevealed(await get(client, number))
    response = await move(client, number, refused)
    assert response.status == 409
    assert await error_code(response) == "transition_not_allowed"
    assert unrevealed(await get(client, number)) == before


async def test_a_transition_with_a_stale_version_is_a_conflict(client):
    number = (await open_ticket(client))["number"]
    await client.post(f"{TICKETS}/{number}/comments", json={"actor": "组长", "note": "先查线路"}, headers=AUTH)
    response = await move(client, number, "analysing", version=1)  # the comment made it version 2
    assert response.status == 409
    assert await error_code(response) == "ticket_conflict"
    assert (await move(client, number, "analysing", version=2)).status == 200


async def test_a_comment_is_added_to_the_trail_and_bumps_the_version(client):
    number = (await open_ticket(client))["number"]
    response = await client.post(
        f"{TICKETS}/{number}/comments", json={"actor": "客服小李", "note": " 客户下午在家 "}, headers=AUTH
    )
    assert response.status == 201
    body = await response.json()
    assert body["version"] == 2 and body["state"] == "accepted"
    assert body["events"][-1] | {"at": None} == {
        "at": None,
        "actor": "客服小李",
        "kind": "comment",
        "from_state": None,
        "to_state": None,
        "note": "客户下午在家",
    }


# --- approval ----------------------------------------------------------------------------------


async def test_a_high_value_ticket_is_resolved_only_after_its_grid_manager_approves(client):
    ticket = await open_ticket(client, category="after_sales", description="设备损坏要求赔偿", amount_yuan=5000)
    number, grid = ticket["number"], ticket["grid"]
    assert (grid, ticket["needs_approval"]) == ("cd-wuhou", True)
    for state in ("analysing", "in_progress"):
        assert (await move(client, number, state)).status == 200

    refused = await move(client, number, "resolved")
    assert refused.status == 409
    assert await error_code(refused) == "approval_required"

    other_manager = manager_of("cd-jinjiang")
    for outsider in ("客服小李", other_manager):
        response = await client.post(f"{TICKETS}/{number}/approve", json={"actor": outsider}, headers=AUTH)
        assert response.status == 403
        assert await error_code(response) == "not_approver"
    assert (await get(client, number))["approved_by"] is None

    manager = manager_of(grid)
    response = await client.post(
        f"{TICKETS}/{number}/approve", json={"actor": manager, "note": "同意赔偿"}, headers=AUTH
    )
    assert response.status == 200
    approved = await response.json()
    assert approved["approved_by"] == manager
    assert approved["events"][-1]["kind"] == "approval" and approved["events"][-1]["actor"] == manager

    resolved = await move(client, number, "resolved")
    assert resolved.status == 200
    assert (await resolved.json())["state"] == "resolved"


async def test_below_the_approval_threshold_the_agent_resolves_alone(client):
    number = (await open_ticket(client, category="after_sales", amount_yuan="4999.99"))["number"]
    for state in ("analysing", "in_progress", "resolved"):
        assert (await move(client, number, state)).status == 200


# --- protection ----------------------------------------------------------------------------------

ROUTES = [
    ("GET", TICKETS, None),
    ("POST", TICKETS, new_ticket()),
    ("GET", f"{TICKETS}/GD-222222", None),
    ("POST", f"{TICKETS}/GD-222222/transition", {"to": "analysing", "actor": "a"}),
    ("POST", f"{TICKETS}/GD-222222/comments", {"actor": "a", "note": "x"}),
    ("POST", f"{TICKETS}/GD-222222/approve", {"actor": "a"}),
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
async def test_every_ticket_route_requires_the_api_token(client, method, path, body, headers):
    response = await client.request(method, path, json=body, headers=headers)
    assert response.status == 401
    assert await error_code(response) == "unauthorized"
    with session_scope() as session:
        assert session.scalar(select(Ticket.id)) is None


async def test_the_ticket_routes_are_disabled_without_a_configured_token(aiohttp_client, gateway_settings):
    settings = dataclasses.replace(gateway_settings, api_token=Secret(""))
    app = create_app(settings, knowledge_base=KnowledgeBase(settings, HashingEncoder()), warm_index=False)
    client = await aiohttp_client(app)
    for method, path, body in ROUTES:
        response = await client.request(method, path, json=body, headers={"Authorization": "Bearer "})
        assert response.status == 403
        assert await error_code(response) == "api_disabled"


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
        ({"actor": None}, "actor"),
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
    ],
)
async def test_the_422_message_says_which_field_and_why_in_chinese(client, overrides, message):
    response = await client.post(TICKETS, json=new_ticket(**overrides), headers=AUTH)
    assert (await response.json())["error"]["message"] == message


@pytest.mark.parametrize(
    "suffix, body, field",
    [
        ("/transition", {"actor": "a"}, "to"),
        ("/transition", {"to": "done", "actor": "a"}, "to"),
        ("/transition", {"to": 3, "actor": "a"}, "to"),
        ("/transition", {"to": "ANALYSING", "actor": "a"}, "to"),
        ("/transition", {"to": "analysing"}, "actor"),
        ("/transition", {"to": "analysing", "actor": "a", "version": "1"}, "version"),
        ("/transition", {"to": "analysing", "actor": "a", "version": True}, "version"),
        ("/transition", {"to": "analysing", "actor": "a", "version": 0}, "version"),
        ("/transition", {"to": "analysing", "actor": "a", "version": 1.5}, "version"),
        ("/transition", {"to": "analysing", "actor": "a", "note": ["x"]}, "note"),
        ("/transition", {"to": "analysing", "actor": "a", "state": "x"}, "state"),
        ("/comments", {"actor": "a"}, "note"),
        ("/comments", {"actor": "a", "note": " "}, "note"),
        ("/comments", {"actor": "a", "note": "长" * 2001}, "note"),
        ("/comments", {"note": "x"}, "actor"),
        ("/approve", {}, "actor"),
        ("/approve", {"actor": "王敏", "note": 5}, "note"),
    ],
)
async def test_an_invalid_change_is_named_in_a_422_and_changes_nothing(client, suffix, body, field):
    number = (await open_ticket(client))["number"]
    before = unrevealed(await get(client, number))
    response = await client.post(f"{TICKETS}/{number}{suffix}", json=body, headers=AUTH)
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "invalid_field" and error["field"] == field
    assert unrevealed(await get(client, number)) == before


@pytest.mark.parametrize("suffix", ["/transition", "/comments", "/approve"])
@pytest.mark.parametrize("raw, code", [(b"{", "invalid_json"), (b"null", "invalid_body"), (b"42", "invalid_body")])
async def test_a_change_with_a_body_that_is_not_a_json_object_is_400(client, suffix, raw, code):
    number = (await open_ticket(client))["number"]
    response = await client.post(f"{TICKETS}/{number}{suffix}", data=raw, headers=AUTH)
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


async def test_two_simultaneous_transitions_of_one_ticket_let_exactly_one_through(client):
    number = (await open_ticket(client))["number"]
    responses = await asyncio.gather(
        move(client, number, "analysing", actor="甲"), move(client, number, "analysing", actor="乙")
    )
    statuses = sorted(r.status for r in responses)
    assert statuses == [200, 409]
    [loser] = [r for r in responses if r.status == 409]
    assert await error_code(loser) in {"ticket_conflict", "transition_not_allowed"}
    [event] = transition_events(number)
    winner = next(r for r in responses if r.status == 200)
    assert event.actor == (await winner.json())["events"][-1]["actor"]
    assert (await get(client, number))["version"] == 2


async def test_two_transitions_that_both_read_the_same_version_end_in_one_conflict(client, monkeypatch):
    """Both requests load the ticket before either writes: the version guard must stop the second."""
    number = (await open_ticket(client))["number"]
    both_loaded = threading.Barrier(2, timeout=10)
    original = service.get_ticket

    def get_then_wait(session, wanted):
        ticket = original(session, wanted)
        both_loaded.wait()
        return ticket

    monkeypatch.setattr(service, "get_ticket", get_then_wait)
    responses = await asyncio.gather(
        move(client, number, "analysing", actor="甲"), move(client, number, "analysing", actor="乙")
    )
    monkeypatch.setattr(service, "get_ticket", original)
    assert sorted(r.status for r in responses) == [200, 409]
    [loser] = [r for r in responses if r.status == 409]
    assert await error_code(loser) == "ticket_conflict"
    assert len(transition_events(number)) == 1
    body = await get(client, number)
    assert (body["state"], body["version"]) == ("analysing", 2)
