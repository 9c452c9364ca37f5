"""Identity verification against the real stack: only a customer the embedding site signed drives routing;
a verified customer's devices share one record, which agents of the customer's grid see in the console."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy.orm import Session

from accounts.management import create_account
from accounts.models import Role
from customers.identity import make_token, sign_customer
from griddesk.db import make_engine
from grids.models import Agent, AgentStatus, GridMembership
from tests.integration.client import IDENTITY_SECRET, Customer, Staff, customer_token, verified

pytestmark = pytest.mark.integration

PASSWORD = "identity-pass-123"
KEY_AGENT, OUTSIDER = "it.id.key", "it.id.pudong"


@pytest.fixture(scope="module")
def staff(stack) -> Iterator[None]:
    """An agent of the key-account grid and one of 上海浦东 (online, so the dispatcher may offer them chats)."""
    engine = make_engine(stack.settings.database_url)
    with Session(engine) as session, session.begin():
        for username, name, grid in ((KEY_AGENT, "郑重点", "key-accounts"), (OUTSIDER, "浦东甲", "sh-pudong")):
            account = create_account(session, username, name, Role.AGENT, PASSWORD)
            session.add(Agent(account_id=account.id, skills=["general"], max_chats=5, status=AgentStatus.ONLINE))
            session.add(GridMembership(grid_code=grid, account_id=account.id))
    engine.dispose()
    yield


def queued_in(customer: Customer) -> str:
    """The grid whose queue 转人工 puts the customer in."""
    customer.say("转人工")
    status = customer.status()
    assert status["owner"] == "queued", status
    return status["grid"]["code"]


def test_a_forged_tier_is_ignored_and_a_signed_one_is_used(stack, staff):
    base = stack.settings.gateway_url
    forged = Customer(base, {"customer": {"tier": "key", "name": "冒充的大客户"}})
    assert queued_in(forged) == "central"

    signed = Customer(base, verified(tier="key"))
    assert queued_in(signed) == "key-accounts"

    hmac_signed = {"id": f"it-{uuid.uuid4().hex[:8]}", "tier": "key"}
    hmac_signed["signature"] = sign_customer(IDENTITY_SECRET, hmac_signed["id"], tier="key")
    by_hmac = Customer(base, {"customer": hmac_signed})
    assert queued_in(by_hmac) == "key-accounts"

    # a wrong or expired proof: the customer is still answered, as an anonymous one
    for proof in (
        {"customer_token": make_token("another-sites-secret-xx", {"sub": "u-1", "tier": "key", "exp": 4e9})},
        {"customer_token": make_token(IDENTITY_SECRET, {"sub": "u-1", "tier": "key", "exp": time.time() - 3600})},
        {"customer": {"id": "u-1", "tier": "key", "signature": sign_customer(IDENTITY_SECRET, "u-1")}},
    ):
        customer = Customer(base, proof)
        assert any("400-800-1234" in text for text in customer.texts("客服电话是多少"))
        assert queued_in(customer) == "central"
        customer.say("/griddesk_back_to_bot")
    for customer in (forged, signed, by_hmac):
        customer.say("/griddesk_back_to_bot")


def test_two_devices_share_one_customer_and_agents_of_their_grid_see_both(stack, staff):
    base = stack.settings.gateway_url
    external_id = f"it-{uuid.uuid4().hex[:8]}"
    phone = Customer(base, verified(external_id, name="王先生", tier="key", phone="13800138000"))
    laptop = Customer(base, verified(external_id, tier="key"))
    assert any("8:00" in text for text in phone.texts("你们的服务时间是几点到几点"))
    assert queued_in(laptop) == "key-accounts"

    agent = Staff(base, KEY_AGENT, PASSWORD)
    handoff_id = laptop.status()["handoff_id"]
    [item] = [i for i in agent.get("/api/v1/console/queue").body["items"] if i["handoff_id"] == handoff_id]
    assert item["profile"]["verified"] is True and item["profile"]["name"] == "王先生"
    customer_id = item["customer_id"]
    assert agent.get(f"/api/v1/console/handoffs/{handoff_id}").body["customer_id"] == customer_id

    history = agent.get(f"/api/v1/console/customers/{customer_id}")
    assert history.status == 200, history.body
    assert history.body["customer"]["external_id"] == external_id and history.body["customer"]["tier"] == "key"
    assert len(history.body["conversations"]) == 2
    assert all(c["last_message"] and c["channel"] == "rest" for c in history.body["conversations"])
    assert {c["owner"] for c in history.body["conversations"]} == {"bot", "queued"}

    outsider = Staff(base, OUTSIDER, PASSWORD)
    assert outsider.get(f"/api/v1/console/customers/{customer_id}").status == 403
    laptop.say("/griddesk_back_to_bot")


@pytest.mark.browser
def test_the_chat_page_passes_the_sites_token_and_the_console_shows_the_customer_file(stack, staff, browser: Browser):
    base = stack.settings.gateway_url
    external_id = f"it-{uuid.uuid4().hex[:8]}"
    contexts = [browser.new_context(locale="zh-CN") for _ in range(2)]
    errors: list[str] = []
    customer, agent = (context.new_page() for context in contexts)
    for page in (customer, agent):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    customer.goto(f"{base}/#customer_token={customer_token(external_id, name='李女士', tier='key')}")
    customer.fill("#input", "转人工")
    customer.press("#input", "Enter")
    expect(customer.locator("#queue-position")).to_be_visible(timeout=20_000)
    sender = customer.evaluate(f"window.localStorage.getItem('griddesk.sender:{external_id}')")
    assert sender  # the conversation this browser keeps for this customer

    agent.goto(f"{base}/console/login")
    agent.fill("#username", KEY_AGENT)
    agent.fill("#password", PASSWORD)
    agent.click("#login-submit")
    expect(agent).to_have_url(f"{base}/console/")
    # an online agent whose console is open is given the waiting customer (issue 14 item 7); accepting by hand
    # stays possible while the customer still waits in the queue
    chat = agent.locator("#chats .chat-item", has_text="李女士")
    queued = agent.locator("#queue .queue-item", has_text="李女士")
    expect(chat.or_(queued)).to_be_visible(timeout=20_000)
    if not chat.count():
        with contextlib.suppress(PlaywrightError):
            queued.locator(".accept").click(timeout=5_000)
    expect(chat).to_be_visible(timeout=10_000)
    chat.click()
    agent.click("#tab-customer")
    expect(agent.locator("#customer-name")).to_contain_text("李女士", timeout=10_000)
    expect(agent.locator("#customer-tier")).to_have_text("重要客户")
    expect(agent.locator("#customer-conversations li")).to_have_count(1)
    expect(agent.locator("#packet-profile")).to_contain_text("已验证")
    agent.click("#hand-back")
    assert not errors, errors
    for context in contexts:
        context.close()


@pytest.mark.browser
def test_a_grids_published_override_reaches_that_grids_customers_in_the_chat_page(stack, browser: Browser):
    """The customer's grid (from the verified region) is the FAQ scope: 成都武侯's published override of a
    global FAQ answers its customers; a customer of another grid and an anonymous one get the global answer."""
    from sqlalchemy import select

    from knowledge_base.models import Faq, FaqStatus

    engine = make_engine(stack.settings.database_url)
    with Session(engine) as session, session.begin():
        original = session.scalars(select(Faq).where(Faq.external_id == "seed-001")).one()
        session.add(
            Faq(
                external_id="it-wuhou-hours",
                question=original.question,
                similar_questions=list(original.similar_questions),
                answer="武侯网格的服务时间：每天 9:00-21:00。",
                category=original.category,
                grid="cd-wuhou",
                status=FaqStatus.PUBLISHED,
                overrides_id=original.id,
            )
        )
    engine.dispose()
    base = stack.settings.gateway_url
    answers = {}
    for who, fragment in (
        ("wuhou", f"#customer_token={customer_token(region='成都市武侯区')}"),
        ("jinjiang", f"#customer_token={customer_token(region='成都市锦江区')}"),
        ("anonymous", ""),
    ):
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        page.goto(f"{base}/{fragment}")
        page.fill("#input", "你们的服务时间是几点到几点")
        page.press("#input", "Enter")
        answer = page.locator(".msg--bot").nth(1)
        expect(answer).to_be_visible(timeout=20_000)
        answers[who] = answer.inner_text()
        context.close()
    assert "9:00-21:00" in answers["wuhou"]
    assert "9:00-21:00" not in answers["jinjiang"] and "8:00" in answers["jinjiang"]
    assert "9:00-21:00" not in answers["anonymous"] and "8:00" in answers["anonymous"]
