"""The staff's tickets workspace API (``/api/v1/console/tickets…``): grid scope (another grid's ticket is not
found, never forbidden), filters, urgency order, conflicts between two staff, assignment, approval with a
note, the audited reveal, the customer and the conversation a ticket came from, bad input, live news."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from conversations.models import Author, MessageStatus
from conversations.transcript import append_messages
from griddesk.db import session_scope, utcnow
from tests.accounts.conftest import fast_hashing  # noqa: F401 - fixture
from tests.factories import make_conversation, make_customer
from tests.tickets.factories import make_ticket
from tests.tickets.staff_api import Login, error_code, open_ticket
from tickets.models import Ticket

pytestmark = pytest.mark.usefixtures("fast_hashing")

WORKSPACE = "/api/v1/console/tickets"


async def ok(response, status: int = 200) -> dict[str, Any]:
    assert response.status == status, await response.text()
    return await response.json()


async def listed(who: Login, **params: str) -> list[str]:
    body = await ok(await who.get(WORKSPACE, params=params))
    return [item["number"] for item in body["items"]]


async def detail(who: Login, number: str) -> dict[str, Any]:
    return await ok(await who.get(f"{WORKSPACE}/{number}"))


def set_ticket(number: str, **values: Any) -> None:
    with session_scope() as session:
        session.execute(update(Ticket).where(Ticket.number == number).values(**values))


async def move(who: Login, number: str, to: str, version: int, **extra: Any):
    return await who.post(f"{WORKSPACE}/{number}/transition", {"to": to, "version": version, **extra})


# --- scope --------------------------------------------------------------------------------------


CHANGES = [
    ("POST", "/reveal", None),
    ("POST", "/transition", {"to": "analysing", "version": 1}),
    ("POST", "/comments", {"note": "看看"}),
    ("POST", "/approve", {"note": "同意"}),
    ("POST", "/assign", {"assignee_id": None, "version": 1}),
    ("GET", "/conversations/1/messages", None),
    ("GET", "", None),
]


@pytest.mark.parametrize("outsider", ["huang.lei", "li.qiang"])  # an agent and a manager of other grids
async def test_another_grids_ticket_is_not_found_on_every_route_like_one_that_does_not_exist(client, login, outsider):
    number = (await open_ticket(client, amount_yuan=6000, category="after_sales"))["number"]
    assert (await open_ticket(client))["grid"] == "cd-wuhou"
    other = await login(outsider)
    assert number not in await listed(other)
    assert number not in await listed(other, q=number)
    for method, suffix, body in CHANGES:

        async def send(path: str, method: str = method, body: Any = body):
            return await (other.post(path, body) if method == "POST" else other.get(path))

        theirs = await send(f"{WORKSPACE}/{number}{suffix}")
        nothing = await send(f"{WORKSPACE}/GD-222222{suffix}")
        assert theirs.status == nothing.status == 404, (suffix, await theirs.text())
        assert await theirs.json() == await nothing.json()  # the same answer: existence is not told
        assert (await theirs.json())["error"]["code"] == "ticket_not_found"
    mine = await login("zhang.wei")
    ticket = await detail(mine, number)
    assert (ticket["version"], ticket["state"], ticket["assignee"]) == (1, "accepted", None)
    assert [e["kind"] for e in ticket["events"]] == ["created"]  # nothing recorded by the outsider


async def test_agents_see_their_grids_tickets_managers_theirs_and_admins_all(client, login):
    wuhou = (await open_ticket(client))["number"]
    pudong = (await open_ticket(client, region="上海市浦东新区"))["number"]
    assert set(await listed(await login("zhang.wei"))) == {wuhou}
    assert set(await listed(await login("wang.min"))) == {wuhou}
    assert set(await listed(await login("huang.lei"))) == {pudong}
    admin = await login("admin")
    assert set(await listed(admin)) == {wuhou, pudong}
    assert set(await listed(admin, grid="sh-pudong")) == {pudong}
    assert (await detail(admin, pudong))["grid"] == "sh-pudong"
    assert await listed(await login("zhang.wei"), grid="sh-pudong") == []  # a grid filter outside yours: nothing


async def test_the_workspace_needs_a_staff_login_and_the_csrf_token(client, agent):
    number = (await open_ticket(client))["number"]
    assert (await client.get(WORKSPACE)).status == 401
    assert (await client.get(WORKSPACE, headers={"Authorization": "Bearer test-token"})).status == 401
    refused = await agent.post(f"{WORKSPACE}/{number}/comments", {"note": "看看"}, csrf=False)
    assert refused.status == 403 and await error_code(refused) == "csrf"


# --- the list: filters and order --------------------------------------------------------------------


async def test_the_list_filters_by_state_category_priority_approval_mine_and_text(client, agent, login):
    fault = await open_ticket(client, contact_phone="13900001111")
    advice = await open_ticket(client, category="consultation", description="想了解一下企业专线资费")
    refund = await open_ticket(client, category="after_sales", description="设备损坏要求赔偿", amount_yuan=5000)
    small = await open_ticket(client, category="after_sales", description="配件少了一个", amount_yuan=4999)
    numbers = {t["number"] for t in (fault, advice, refund, small)}
    assert set(await listed(agent)) == numbers  # default: every state
    await ok(await move(agent, advice["number"], "analysing", 1))
    assert set(await listed(agent, state="analysing")) == {advice["number"]}
    assert set(await listed(agent, category="after_sales")) == {refund["number"], small["number"]}
    assert set(await listed(agent, priority="low")) == {advice["number"]}
    assert await listed(agent, awaiting_approval="true") == [refund["number"]]  # 5000 needs it, 4999 does not

    take = await agent.post(f"{WORKSPACE}/{small['number']}/assign", {"assignee_id": agent.account_id, "version": 1})
    await ok(take)
    assert await listed(agent, mine="true") == [small["number"]]
    assert await listed(await login("li.na"), mine="true") == []

    assert await listed(agent, q="专线") == [advice["number"]]  # words of the description
    assert await listed(agent, q=refund["number"].lower().replace("-", "")) == [refund["number"]]  # a number
    assert await listed(agent, q="139-0000-1111") == [fault["number"]]  # a full phone (stored encrypted)
    assert set(await listed(agent, q="武侯")) == numbers  # words of the region
    assert await listed(agent, q="%") == []  # LIKE wildcards are plain characters
    assert await listed(agent, q="不存在的内容") == []

    for number in (fault["number"], advice["number"]):
        set_ticket(number, state="closed", step_due_at=None)
    assert set(await listed(agent, state="open")) == {refund["number"], small["number"]}


async def test_overdue_means_marked_or_open_and_past_the_step_deadline(client, agent):
    marked, late, on_time, closed = [(await open_ticket(client))["number"] for _ in range(4)]
    now = utcnow()
    set_ticket(marked, overdue=True)
    set_ticket(late, step_due_at=now - timedelta(minutes=5))  # the watch has not marked it yet
    set_ticket(closed, state="closed", step_due_at=now - timedelta(days=1))
    assert set(await listed(agent, overdue="true")) == {marked, late}
    assert set(await listed(agent, overdue="false")) == {on_time, closed}
    body = await ok(await agent.get(WORKSPACE))
    assert {item["number"]: item["late"] for item in body["items"]} == {
        marked: True,
        late: True,
        on_time: False,
        closed: False,
    }


async def test_the_list_is_sorted_by_urgency_overdue_first_then_the_nearest_deadline(client, agent):
    now = utcnow()
    tickets = {name: (await open_ticket(client))["number"] for name in ("later", "soon", "late", "very_late", "done")}
    set_ticket(tickets["later"], step_due_at=now + timedelta(hours=5))
    set_ticket(tickets["soon"], step_due_at=now + timedelta(minutes=10))
    set_ticket(tickets["late"], step_due_at=now - timedelta(minutes=1))
    set_ticket(tickets["very_late"], step_due_at=now - timedelta(hours=2), overdue=True)
    set_ticket(tickets["done"], state="resolved", step_due_at=None)
    order = ["very_late", "late", "soon", "later", "done"]
    assert await listed(agent) == [tickets[name] for name in order]
    # pages keep the order
    first = await ok(await agent.get(WORKSPACE, params={"limit": "2"}))
    second = await ok(await agent.get(WORKSPACE, params={"limit": "2", "offset": "2"}))
    assert (first["total"], first["limit"], second["offset"]) == (5, 2, 2)
    assert [i["number"] for i in first["items"] + second["items"]] == [tickets[name] for name in order[:4]]


async def test_the_list_masks_contacts_and_names_the_assignee(client, agent):
    number = (await open_ticket(client, contact_phone="13800138000", contact_name="欧阳娜娜"))["number"]
    await ok(await agent.post(f"{WORKSPACE}/{number}/assign", {"assignee_id": agent.account_id, "version": 1}))
    [item] = (await ok(await agent.get(WORKSPACE)))["items"]
    assert (item["contact_phone"], item["contact_name"]) == ("138****8000", "欧***")
    assert item["assignee"] == {"id": agent.account_id, "name": "张伟"}


@pytest.mark.parametrize(
    "params, field",
    [
        ({"colour": "red"}, "colour"),
        ({"state": "pending"}, "state"),
        ({"category": "weather"}, "category"),
        ({"priority": "asap"}, "priority"),
        ({"overdue": "yes"}, "overdue"),
        ({"mine": "1"}, "mine"),
        ({"awaiting_approval": "TRUE"}, "awaiting_approval"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"offset": "1e3"}, "offset"),
        ({"q": "x" * 65}, "q"),
        ({"q": "断网\x01"}, "q"),
        ({"grid": "g" * 65}, "grid"),
    ],
)
async def test_a_bad_list_parameter_is_a_400_naming_it_in_chinese(client, agent, params, field):
    response = await agent.get(WORKSPACE, params=params)
    assert response.status == 400
    error = (await response.json())["error"]
    assert (error["code"], error["field"]) == ("invalid_parameter", field)
    assert error["message"].endswith("。") and "：" in error["message"]


# --- one ticket ------------------------------------------------------------------------------------


async def test_a_ticket_shows_its_trail_next_steps_who_may_be_assigned_and_what_the_caller_may_do(client, agent, login):
    number = (await open_ticket(client, category="after_sales", description="设备损坏要求赔偿", amount_yuan=5000))[
        "number"
    ]
    ticket = await detail(agent, number)
    assert (ticket["contact_phone"], ticket["contact_name"]) == ("138****5678", "张*")
    assert ticket["next_steps"] == ["analysing"]
    assert {p["name"] for p in ticket["assignable"]} == {"张伟", "李娜", "王敏", "吴副经理"}  # cd-wuhou's staff
    assert ticket["may"] == {"approve": False, "assign_others": False}
    assert (await detail(await login("wang.min"), number))["may"] == {"approve": True, "assign_others": True}
    assert (await detail(await login("deputy.wu"), number))["may"] == {"approve": False, "assign_others": True}
    [created] = ticket["events"]
    assert (created["kind"], created["actor_name"]) == ("created", "集成接口（integration）")
    assert ticket["customer"] is None and ticket["conversations"] == []
    assert [e["kind"] for e in (await detail(agent, number))["events"]] == ["created"]  # reading records nothing


async def test_the_reveal_shows_the_contact_in_full_and_is_recorded_in_the_trail(client, agent):
    number = (await open_ticket(client, contact_phone="13800138000", contact_name="欧阳娜娜"))["number"]
    revealed = await ok(await agent.post(f"{WORKSPACE}/{number}/reveal"))
    assert (revealed["contact_phone"], revealed["contact_name"]) == ("13800138000", "欧阳娜娜")
    reveal = revealed["events"][-1]
    assert (reveal["kind"], reveal["actor"], reveal["actor_name"]) == ("reveal", agent.actor, "张伟")
    assert reveal["note"] == "查看了联系电话、联系人姓名"
    again = await detail(agent, number)
    assert again["contact_phone"] == "138****8000"  # masked again on the next read
    assert [e["kind"] for e in again["events"]] == ["created", "reveal"]


async def test_the_verified_customer_and_the_conversation_it_came_from_with_its_transcript(client, agent, login):
    with session_scope() as session:
        conversation = make_conversation(
            session,
            "sender-with-ticket",
            texts=("宽带断了三天",),
            customer=make_customer("u-77", name="王先生", phone="13800138000", region="成都市武侯区"),
        )
        append_messages(session, conversation.id, [(Author.BOT, "已为您登记工单。", None, MessageStatus.SENT)])
        other = make_conversation(session, "someone-else", texts=("别人的会话",))
        ticket = make_ticket(session, sender_id="sender-with-ticket")
        number, conversation_id, other_id = ticket.number, conversation.id, other.id
    body = await detail(agent, number)
    assert body["customer"] | {"id": None} == {
        "id": None,
        "external_id": "u-77",
        "name": "王**",
        "phone": "138****8000",
        "region": "成都市武侯区",
        "tier": None,
    }
    assert [(c["id"], c["messages"]) for c in body["conversations"]] == [(conversation_id, 2)]
    messages = await ok(await agent.get(f"{WORKSPACE}/{number}/conversations/{conversation_id}/messages"))
    assert [m["text"] for m in messages["messages"]] == ["宽带断了三天", "已为您登记工单。"]
    later = await ok(await agent.get(f"{WORKSPACE}/{number}/conversations/{conversation_id}/messages?after=1"))
    assert [m["seq"] for m in later["messages"]] == [2]
    # only the conversation the ticket came from, not any other through this ticket
    refused = await agent.get(f"{WORKSPACE}/{number}/conversations/{other_id}/messages")
    assert refused.status == 404 and await error_code(refused) == "not_found"
    assert (await agent.get(f"{WORKSPACE}/{number}/conversations/{'9' * 13}/messages")).status == 404
    revealed = await ok(await agent.post(f"{WORKSPACE}/{number}/reveal"))
    assert (revealed["customer"]["name"], revealed["customer"]["phone"]) == ("王先生", "13800138000")


# --- changes ---------------------------------------------------------------------------------------


async def test_an_agent_moves_a_ticket_through_the_flow_comments_and_reopens(client, agent):
    number = (await open_ticket(client))["number"]
    version = 1
    for to, steps in (
        ("analysing", ["in_progress"]),
        ("in_progress", ["resolved"]),
        ("resolved", ["closed", "in_progress"]),
    ):
        moved = await ok(await move(agent, number, to, version, note=f"到{to}"))
        assert (moved["state"], moved["next_steps"], moved["version"]) == (to, steps, version + 1)
        version = moved["version"]
    reopened = await ok(await move(agent, number, "in_progress", version, note="客户说还没好"))
    assert reopened["state"] == "in_progress"
    commented = await ok(await agent.post(f"{WORKSPACE}/{number}/comments", {"note": "已电话联系客户"}), 201)
    last = commented["events"][-1]
    assert (last["kind"], last["note"], last["actor_name"]) == ("comment", "已电话联系客户", "张伟")
    transitions = [(e["from_state"], e["to_state"]) for e in commented["events"] if e["kind"] == "transition"]
    assert transitions[-1] == ("resolved", "in_progress")


async def test_a_move_with_a_stale_version_is_a_conflict_saying_what_the_ticket_is_now(client, agent, login):
    number = (await open_ticket(client))["number"]
    other = await login("li.na")
    await ok(await move(other, number, "analysing", 1))
    for attempt in ("analysing", "in_progress"):  # the same step again, or the next one: both on version 1
        refused = await move(agent, number, attempt, 1)
        assert refused.status == 409
        error = (await refused.json())["error"]
        assert error["code"] == "ticket_conflict"
        assert (
            error["message"] == "这张工单刚被其他人修改过（现在是「分析中」），页面已刷新为最新内容，请确认后再操作。"
        )
    ticket = await detail(agent, number)
    assert (ticket["state"], ticket["version"]) == ("analysing", 2)
    assert [e["kind"] for e in ticket["events"]] == ["created", "transition"]


async def test_two_staff_moving_one_ticket_at_once_one_wins_the_other_gets_the_conflict(client, agent, login):
    number = (await open_ticket(client))["number"]
    other = await login("wang.min")
    first, second = await asyncio.gather(move(agent, number, "analysing", 1), move(other, number, "analysing", 1))
    assert sorted([first.status, second.status]) == [200, 409]
    loser = first if first.status == 409 else second
    assert await error_code(loser) == "ticket_conflict"
    assert [e["kind"] for e in (await detail(agent, number))["events"]] == ["created", "transition"]


async def test_an_agent_takes_and_gives_back_a_ticket_and_assigns_nobody_else(client, agent, login):
    number = (await open_ticket(client))["number"]
    colleague = (await detail(agent, number))["assignable"]
    li_na = next(p["id"] for p in colleague if p["name"] == "李娜")
    refused = await agent.post(f"{WORKSPACE}/{number}/assign", {"assignee_id": li_na, "version": 1})
    assert refused.status == 403 and await error_code(refused) == "not_allowed"
    taken = await ok(await agent.post(f"{WORKSPACE}/{number}/assign", {"assignee_id": agent.account_id, "version": 1}))
    assert taken["assignee"] == {"id": agent.account_id, "name": "张伟"}
    assert (taken["events"][-1]["kind"], taken["events"][-1]["note"]) == ("assignment", "指派给 张伟")
    stale = await agent.post(f"{WORKSPACE}/{number}/assign", {"assignee_id": None, "version": 1})
    assert stale.status == 409 and await error_code(stale) == "ticket_conflict"
    other = await login("li.na")
    refused = await other.post(f"{WORKSPACE}/{number}/assign", {"assignee_id": None, "version": 2})
    assert refused.status == 403  # not theirs to give back
    released = await ok(await agent.post(f"{WORKSPACE}/{number}/assign", {"assignee_id": None, "version": 2}))
    assert released["assignee"] is None and released["events"][-1]["note"] == "取消指派"


async def test_a_manager_assigns_anyone_of_the_grid_but_nobody_outside_it(client, login, staff):
    number = (await open_ticket(client))["number"]
    manager = await login("wang.min")
    outside = await manager.post(f"{WORKSPACE}/{number}/assign", {"assignee_id": staff["huang.lei"], "version": 1})
    assert outside.status == 422
    error = (await outside.json())["error"]
    assert (error["field"], error["message"]) == ("assignee_id", "负责人：只能指派给本工单所属网格的客服或网格经理。")
    unknown = await manager.post(f"{WORKSPACE}/{number}/assign", {"assignee_id": 999999, "version": 1})
    assert unknown.status == 422
    assigned = await ok(
        await manager.post(f"{WORKSPACE}/{number}/assign", {"assignee_id": staff["li.na"], "version": 1})
    )
    assert assigned["assignee"]["name"] == "李娜" and assigned["events"][-1]["actor_name"] == "王敏"
    assert await listed(await login("li.na"), mine="true") == [number]


async def test_the_grid_manager_approves_a_high_amount_with_a_note_and_only_then_it_resolves(client, agent, login):
    number = (await open_ticket(client, category="after_sales", description="设备损坏要求赔偿", amount_yuan=5000))[
        "number"
    ]
    version = 1
    for to in ("analysing", "in_progress"):
        version = (await ok(await move(agent, number, to, version)))["version"]
    refused = await move(agent, number, "resolved", version)
    assert refused.status == 409 and await error_code(refused) == "approval_required"
    assert (await agent.post(f"{WORKSPACE}/{number}/approve", {"note": "同意"})).status == 403  # not the manager
    deputy = await (await login("deputy.wu")).post(f"{WORKSPACE}/{number}/approve", {"note": "同意"})
    assert deputy.status == 403 and await error_code(deputy) == "not_approver"
    manager = await login("wang.min")
    no_note = await manager.post(f"{WORKSPACE}/{number}/approve", {})
    assert no_note.status == 422 and (await no_note.json())["error"]["field"] == "note"
    assert await listed(agent, awaiting_approval="true") == [number]
    approved = await ok(await manager.post(f"{WORKSPACE}/{number}/approve", {"note": "核实无误，同意赔偿"}))
    assert approved["approved_by"] == manager.actor
    last = approved["events"][-1]
    assert (last["kind"], last["note"], last["actor_name"]) == ("approval", "核实无误，同意赔偿", "王敏")
    assert await listed(agent, awaiting_approval="true") == []
    resolved = await ok(await move(agent, number, "resolved", approved["version"]))
    assert resolved["state"] == "resolved"


@pytest.mark.parametrize(
    "suffix, body, field",
    [
        ("/transition", {"to": "analysing"}, "version"),
        ("/transition", {"to": "analysing", "version": "1"}, "version"),
        ("/transition", {"to": "done", "version": 1}, "to"),
        ("/transition", {"to": "analysing", "version": 1, "note": "x" * 2001}, "note"),
        ("/transition", {"to": "analysing", "version": 1, "actor": "王敏"}, "actor"),
        ("/comments", {"note": "  "}, "note"),
        ("/comments", {"note": 5}, "note"),
        ("/assign", {"version": 1}, "assignee_id"),
        ("/assign", {"assignee_id": "张伟", "version": 1}, "assignee_id"),
        ("/assign", {"assignee_id": 0, "version": 1}, "assignee_id"),
        ("/assign", {"assignee_id": None}, "version"),
        ("/approve", {"note": ""}, "note"),
    ],
)
async def test_a_bad_body_is_a_422_naming_the_field_in_chinese_and_changes_nothing(client, agent, suffix, body, field):
    number = (await open_ticket(client))["number"]
    response = await agent.post(f"{WORKSPACE}/{number}{suffix}", body)
    assert response.status == 422
    error = (await response.json())["error"]
    assert (error["code"], error["field"]) == ("invalid_field", field)
    assert "：" in error["message"] and error["message"].endswith("。")
    assert [e["kind"] for e in (await detail(agent, number))["events"]] == ["created"]


async def test_a_body_that_is_not_a_json_object_is_400(client, agent):
    number = (await open_ticket(client))["number"]
    response = await agent.post(f"{WORKSPACE}/{number}/transition", data=b"{")
    assert response.status == 400 and await error_code(response) == "invalid_json"


# --- live news -------------------------------------------------------------------------------------


async def next_tickets(ws) -> dict[str, Any]:
    while True:
        event = json.loads((await asyncio.wait_for(ws.receive(), 10)).data)
        if event["type"] == "tickets":
            return event


async def test_the_console_websocket_tells_each_person_the_changes_of_their_grids_tickets(client, agent, login):
    origin = str(client.make_url("/")).rstrip("/")
    outsider = await login("huang.lei")
    wuhou = (await open_ticket(client))["number"]
    async with (
        agent.http.ws_connect(client.make_url("/api/v1/console/ws"), headers={"Origin": origin}) as mine,
        outsider.http.ws_connect(client.make_url("/api/v1/console/ws"), headers={"Origin": origin}) as theirs,
    ):
        await ok(await move(agent, wuhou, "analysing", 1))
        news = await next_tickets(mine)
        assert {"number": wuhou, "grid": "cd-wuhou", "kind": "transition"} in news["changes"]
        # a ticket opened elsewhere (the action server writes straight to the database) is news too
        with session_scope() as session:
            pudong = make_ticket(session, region="上海市浦东新区", sender_id=None).number
        first = await next_tickets(theirs)  # the outsider's first news is their own grid's, never 武侯's
        assert [c["number"] for c in first["changes"]] == [pudong]
        await ok(await agent.post(f"{WORKSPACE}/{wuhou}/reveal"))  # a look changes nothing: no news
        await ok(await agent.post(f"{WORKSPACE}/{wuhou}/comments", {"note": "已联系"}), 201)
        assert [c["kind"] for c in (await next_tickets(mine))["changes"]] == ["comment"]


async def test_the_origin_transcript_shows_the_rating_buttons_without_their_one_time_token(client, agent):
    from handoff.messages import AGENT_CLOSED, rating_buttons

    token = "one-time-rating-token-QZX"
    with session_scope() as session:
        conversation = make_conversation(session, "rated-customer", texts=("转人工",))
        notice = {"text": AGENT_CLOSED, "buttons": rating_buttons(token)}
        append_messages(session, conversation.id, [(Author.SYSTEM, AGENT_CLOSED, notice, MessageStatus.SENT)])
        number, conversation_id = make_ticket(session, sender_id="rated-customer").number, conversation.id
    messages = await ok(await agent.get(f"{WORKSPACE}/{number}/conversations/{conversation_id}/messages"))
    assert token not in json.dumps(messages, ensure_ascii=False)  # staff could rate the service with it
    assert len(messages["messages"][-1]["payload"]["buttons"]) == 5  # the buttons are there, without it
