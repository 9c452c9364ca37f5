"""The tickets workspace in a real browser against the real stack (Rasa, the action server, the gateway):
the agent's round trip (a ticket a customer opens in chat appears in the list live → its page → a step of
the flow → a comment), the grid manager's (the board's counts → the ticket waiting for approval → approval
with a note; an overdue alert → its ticket) and two staff moving one ticket (the second is told plainly)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute, expect
from sqlalchemy import update
from sqlalchemy.orm import Session

from accounts.management import create_account
from accounts.models import Role
from griddesk.db import make_engine, utcnow
from grids.models import Agent, AgentStatus, GridMembership
from tests.integration.client import Customer, request
from tests.integration.conftest import API_TOKEN
from tests.integration.test_tickets_in_chat import open_complaint
from tickets.models import Ticket
from tickets.watch import check_overdue
from tickets.workspace import grid_ticket_counts

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PASSWORD = "tickets-pass-123"
GRID = "cd-wuhou"
SEED_GRIDS = Path(__file__).resolve().parents[2] / "grids" / "seed" / "grids.json"
MANAGER_NAME = next(g["manager"] for g in json.loads(SEED_GRIDS.read_text("utf-8")) if g["code"] == GRID)
PEOPLE = {  # username: (display name, role)
    "it.tk.agent": ("周工单", Role.AGENT),
    "it.tk.agent2": ("吴同事", Role.AGENT),
    "it.tk.manager": (MANAGER_NAME, Role.MANAGER),  # the manager the grid names: the one who approves
}


@pytest.fixture(scope="module")
def people(stack) -> dict[str, str]:
    engine = make_engine(stack.settings.database_url)
    with Session(engine) as session, session.begin():
        for username, (name, role) in PEOPLE.items():
            account = create_account(session, username, name, role, PASSWORD)
            session.add(Agent(account_id=account.id, skills=["general"], max_chats=3, status=AgentStatus.ONLINE))
            session.add(GridMembership(grid_code=GRID, account_id=account.id))
    engine.dispose()
    return {username: name for username, (name, _) in PEOPLE.items()}


@pytest.fixture
def open_page(browser: Browser, stack, people) -> Iterator:
    """``open_page(username)``: a logged-in console page in a context of its own (browser errors fail the test)."""
    contexts, errors = [], []

    def log_in(username: str, viewport: dict[str, int] | None = None) -> Page:
        context = browser.new_context(locale="zh-CN", viewport=viewport or {"width": 1280, "height": 800})
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{stack.settings.gateway_url}/console/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        expect(page).to_have_url(f"{stack.settings.gateway_url}/console/")
        return page

    yield log_in
    for context in contexts:
        context.close()
    assert not errors, errors


def token_ticket(stack, **fields: object) -> str:
    body = {
        "category": "after_sales",
        "description": "设备损坏要求赔偿",
        "contact_phone": "13800138000",
        "contact_name": "王先生",
        "region": "成都市武侯区",
        **fields,
    }
    reply = request(
        "POST", f"{stack.settings.gateway_url}/api/v1/tickets", body, {"Authorization": f"Bearer {API_TOKEN}"}
    )
    assert reply.status == 201, reply.body
    assert reply.body["grid"] == GRID
    return reply.body["number"]


def row(page: Page, number: str):
    return page.locator(f'.tk-row[data-number="{number}"]')


def test_an_agent_sees_a_chat_ticket_arrive_live_opens_it_moves_it_and_comments(stack, open_page, people):
    agent = open_page("it.tk.agent")
    agent.goto(f"{stack.settings.gateway_url}/console/tickets")
    expect(agent.locator("#tk-summary")).to_contain_text("共", timeout=10_000)

    customer = Customer(stack.settings.gateway_url)
    number, _ = open_complaint(customer)  # through Rasa and the action server, straight into the database
    arrived = row(agent, number)
    expect(arrived).to_be_visible(timeout=15_000)  # no reload: the ticket news reached the open list
    expect(arrived.locator(".countdown")).to_contain_text("剩余")  # a complaint: contact within 1 hour
    expect(arrived).to_contain_text("投诉")

    arrived.locator("a").click()
    expect(agent).to_have_url(re.compile(f"/console/tickets/{number}$"))
    expect(agent.locator("#tk-number")).to_have_text(number)
    expect(agent.locator("#tk-state")).to_have_text("已受理")
    expect(agent.locator(".tk-contact-phone")).to_have_text("138****5678")

    agent.locator(".tk-open-transcript").first.click()  # the conversation it came from
    expect(agent.locator("#transcript")).to_contain_text("我要投诉，宽带三天没修好")
    agent.click("#transcript-close")

    agent.fill("#tk-step-note", "已致电客户，约好明天上门")
    agent.click('.tk-step-button[data-to="analysing"]')
    expect(agent.locator("#tk-state")).to_have_text("分析中")
    expect(agent.locator("#tk-trail")).to_contain_text("已受理 → 分析中")
    expect(agent.locator("#tk-trail")).to_contain_text("已致电客户，约好明天上门")
    assert any("分析" in m.get("text", "") for m in customer.history())  # the customer's chat was told

    agent.fill("#tk-comment-note", "客户要求上午上门 <b>勿晚</b>")
    agent.click("#tk-comment")
    comment = agent.locator(".tk-comment").last
    expect(comment).to_contain_text("客户要求上午上门 <b>勿晚</b>")  # markup shown as text
    expect(comment).to_contain_text(people["it.tk.agent"])

    agent.click("#tk-take")
    expect(agent.locator("#tk-assignee")).to_have_text(people["it.tk.agent"] + "（我）")
    agent.click("#tk-reveal")
    expect(agent.locator(".tk-contact-phone")).to_have_text("13812345678")
    expect(agent.locator("#tk-trail")).to_contain_text("查看联系方式")

    agent.click(".tk-back a")
    agent.check("#f-mine")
    expect(row(agent, number)).to_be_visible()
    expect(row(agent, number)).to_contain_text("分析中")


def test_the_manager_approves_a_high_amount_from_the_board_and_follows_an_overdue_alert(stack, open_page, people):
    number = token_ticket(stack, amount_yuan=6800)
    late = token_ticket(stack, category="fault", description="光猫红灯闪烁，无法上网", amount_yuan=None)
    manager = open_page("it.tk.manager")

    manager.goto(f"{stack.settings.gateway_url}/console/manager")
    card = manager.locator(f'.grid-card[data-grid="{GRID}"]')
    engine = make_engine(stack.settings.database_url)
    with Session(engine) as session:
        counts = grid_ticket_counts(session, [GRID], utcnow())[GRID]
    accepted = card.locator('.ticket-count[data-state="accepted"]')
    expect(accepted).to_have_text(f"已受理 {counts.by_state['accepted']}", timeout=10_000)
    expect(card.locator(".ticket-count--approval")).to_have_text(f"待审批 {counts.awaiting_approval}")
    expect(card.locator(".grid-card__rating")).to_contain_text("近30天")

    card.locator(".ticket-count--approval").click()
    expect(manager).to_have_url(re.compile(r"/console/tickets\?.*awaiting_approval=true"))
    expect(manager.locator("#f-approval")).to_be_checked()
    row(manager, number).locator("a").click()
    expect(manager.locator("#tk-approval-status")).to_contain_text("6800.00 元")
    expect(manager.locator('.tk-step-button[data-to="analysing"]')).to_be_enabled()
    manager.click("#tk-approve")  # no note: the page asks for one, nothing is sent
    expect(manager.locator("#toast")).to_contain_text("请填写审批意见")
    manager.fill("#tk-approval-note", "核实发票无误，同意赔偿")
    manager.click("#tk-approve")
    expect(manager.locator("#tk-approval-status")).to_contain_text("审批通过：核实发票无误，同意赔偿")
    expect(manager.locator("#tk-approval-status")).to_contain_text(MANAGER_NAME)
    expect(manager.locator("#tk-approval-form")).to_be_hidden()

    # an overdue ticket: the watch alerts the manager; the board's alert links to the ticket
    with Session(engine) as session, session.begin():
        session.execute(
            update(Ticket).where(Ticket.number == late).values(step_due_at=utcnow() - timedelta(minutes=20))
        )
        check_overdue(session, utcnow())
    engine.dispose()
    manager.goto(f"{stack.settings.gateway_url}/console/manager")
    link = manager.locator(".alert-link", has_text=late)
    expect(link).to_be_visible(timeout=10_000)
    expect(card.locator(".ticket-count--overdue")).not_to_have_text("超时 0")
    link.click()
    expect(manager).to_have_url(re.compile(f"/console/tickets/{late}$"))
    expect(manager.locator("#tk-countdown")).to_contain_text("已超时")
    expect(manager.locator("#tk-countdown")).to_have_class(re.compile("countdown--late"))


def test_of_two_staff_moving_one_ticket_the_second_is_told_and_sees_the_ticket_as_it_is(stack, open_page, people):
    number = token_ticket(stack, category="fault", description="网络时断时续", amount_yuan=None)
    first = open_page("it.tk.agent")
    second = open_page("it.tk.agent2")
    # the second page hears no live news (as if it had not arrived yet): it still shows the old version
    second.route_web_socket(re.compile(r".*/api/v1/console/ws$"), lambda ws: ws_silent(ws))
    for page in (first, second):
        page.goto(f"{stack.settings.gateway_url}/console/tickets/{number}")
        expect(page.locator("#tk-state")).to_have_text("已受理")

    first.click('.tk-step-button[data-to="analysing"]')
    expect(first.locator("#tk-state")).to_have_text("分析中")

    second.click('.tk-step-button[data-to="analysing"]')
    conflict = second.locator("#tk-conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("这张工单刚被其他人修改过（现在是「分析中」）")
    expect(second.locator("#tk-state")).to_have_text("分析中")  # refreshed
    expect(second.locator(".tk-step-button")).to_have_attribute("data-to", "in_progress")
    expect(second.locator("#tk-trail")).to_contain_text(PEOPLE["it.tk.agent"][0])
    second.click("#tk-conflict-close")
    expect(conflict).to_be_hidden()


def ws_silent(ws: WebSocketRoute) -> None:
    """A console websocket that never says anything (not connected to the server)."""
