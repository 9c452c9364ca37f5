"""The real rasa-webchat widget (npm rasa-webchat 1.0.1, its ``lib/index.js``, installed by ``make webchat``)
on a company's own page, pointed at the GridDesk gateway instead of a Rasa server: answers, quick replies,
and a handoff to an agent whose replies arrive in the widget — headless Chromium against the real stack."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from accounts.management import create_account
from accounts.models import Role
from griddesk.db import make_engine
from grids.models import Agent, AgentStatus, GridMembership
from tests.integration.client import Staff, customer_token, request
from tests.integration.conftest import shop_origin

pytestmark = [pytest.mark.integration, pytest.mark.browser]

BUNDLE = Path(__file__).resolve().parents[2] / "var" / "webchat" / "node_modules" / "rasa-webchat" / "lib" / "index.js"
AGENT = "it.webchat"
AGENT_NAME = "林网聊"
PASSWORD = "webchat-pass-123"
REGION = "成都市锦江区"  # the 成都锦江 grid: a queue of its own, away from the other handoff tests


@pytest.fixture(scope="module")
def bundle() -> bytes:
    if not BUNDLE.exists():
        pytest.fail(f"{BUNDLE} is missing: run `make webchat` (make test does)")
    return BUNDLE.read_bytes()


@pytest.fixture(scope="module")
def agent(stack) -> Staff:
    engine = make_engine(stack.settings.database_url)
    with Session(engine) as session, session.begin():
        account = create_account(session, AGENT, AGENT_NAME, Role.AGENT, PASSWORD)
        session.add(Agent(account_id=account.id, skills=["general"], max_chats=3, status=AgentStatus.ONLINE))
        session.add(GridMembership(grid_code="cd-jinjiang", account_id=account.id))
    engine.dispose()
    return Staff(stack.settings.gateway_url, AGENT, PASSWORD)


@pytest.fixture(scope="module")
def shop_page(stack, bundle: bytes, shop_ports: dict[str, int]) -> Iterator[str]:
    """A company's page on its own origin that embeds rasa-webchat exactly as its README shows, with the
    socket URL of the GridDesk gateway where a Rasa server's would be."""
    options = {
        "socketUrl": stack.settings.gateway_url,
        "socketPath": "/socket.io/",
        "initPayload": "/greet",
        "customData": {"customer_token": customer_token(region=REGION)},
        "title": "某公司在线客服",
        "inputTextFieldHint": "请输入您的问题",
        "params": {"storage": "local"},
    }
    html = (
        "<!doctype html><html><head><meta charset='utf-8'><title>某公司官网</title></head><body>"
        "<h1>某公司官网</h1><div id='webchat'></div><script src='/webchat.js'></script>"
        f"<script>var options = {json.dumps(options, ensure_ascii=False)};"
        "options.customMessageDelay = function () { return 100; };"
        "WebChat.default(options, null);</script></body></html>"
    ).encode()
    files = {"/": ("text/html; charset=utf-8", html), "/webchat.js": ("application/javascript", bundle)}

    class Shop(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            content_type, body = files.get(self.path.split("?")[0], ("text/plain", b""))
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", shop_ports["webchat"]), Shop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"{shop_origin(server.server_address[1])}/"  # another origin than the gateway's 127.0.0.1
    server.shutdown()
    server.server_close()


@pytest.fixture
def widget(browser: Browser, shop_page: str) -> Iterator[tuple[Page, list[str]]]:
    """The shop page with the widget opened and greeted; page errors are collected."""
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(shop_page)
    page.click(".rw-launcher", timeout=15_000)  # shown once the gateway confirmed the session
    expect(page.locator(".rw-response").first).to_contain_text("您好", timeout=30_000)  # the initPayload /greet
    yield page, errors
    context.close()


def say(page: Page, text: str) -> None:
    page.fill(".rw-new-message", text)
    page.press(".rw-new-message", "Enter")


def session_id(page: Page) -> str:
    return json.loads(page.evaluate("window.localStorage.getItem('chat_session')"))["session_id"]


def queued_handoff(stack, sender: str) -> int:
    for _ in range(200):
        status = request("GET", f"{stack.settings.gateway_url}/webhooks/rest/status?sender={sender}").body
        if status["owner"] == "queued":
            return status["handoff_id"]
        time.sleep(0.1)
    raise AssertionError(f"the customer was not queued: {status}")


def test_the_widget_gets_answers_and_its_quick_replies_work(widget):
    page, errors = widget
    say(page, "你们的服务时间是几点到几点")
    expect(page.locator(".rw-client").last).to_have_text("你们的服务时间是几点到几点")
    expect(page.locator(".rw-response").last).to_contain_text("8:00", timeout=20_000)

    say(page, "账单和那个票的事")
    replies = page.locator(".rw-reply")
    expect(replies.last).to_have_text("都不是", timeout=20_000)  # the suggestions, as quick replies
    chosen = replies.first.inner_text()
    responses = page.locator(".rw-response").count()
    replies.first.click()
    expect(page.locator(".rw-client").last).to_have_text(chosen)
    expect(page.locator(".rw-response")).to_have_count(responses + 1, timeout=20_000)  # the chosen FAQ answered
    assert not [e for e in errors if "Uncaught" in e or "CORS" in e], errors


def test_a_handoff_round_trip_in_the_widget_survives_a_reload(stack, widget, agent, shop_page):
    page, errors = widget
    sender = session_id(page)
    say(page, "转人工")
    expect(page.locator(".rw-response").last).to_contain_text("成都锦江网格", timeout=20_000)  # the queue notice
    handoff_id = queued_handoff(stack, sender)
    item = next(i for i in agent.get("/api/v1/console/queue").body["items"] if i["handoff_id"] == handoff_id)
    assert item["channel"] == "socketio"

    assert agent.post(f"/api/v1/console/handoffs/{handoff_id}/accept").status == 200
    expect(page.locator(".rw-response").last).to_contain_text(f"人工客服 {AGENT_NAME} 为您服务", timeout=10_000)
    assert (
        agent.post(f"/api/v1/console/handoffs/{handoff_id}/messages", {"text": "您好,我是人工客服,请讲"}).status == 201
    )
    expect(page.locator(".rw-response").last).to_have_text("您好,我是人工客服,请讲", timeout=10_000)

    say(page, "宽带连不上")
    conversation = item["conversation_id"]
    for _ in range(100):
        said = agent.get(f"/api/v1/console/conversations/{conversation}/messages").body["messages"]
        if said[-1]["text"] == "宽带连不上":
            break
        time.sleep(0.1)
    assert said[-1]["author"] == "customer" and said[-1]["text"] == "宽带连不上"

    # the page is reloaded: the widget asks for the same session and the conversation goes on
    page.reload()
    expect(page.locator(".rw-response").last).to_have_text("您好,我是人工客服,请讲", timeout=15_000)
    assert session_id(page) == sender
    assert agent.post(f"/api/v1/console/handoffs/{handoff_id}/messages", {"text": "请重启一下光猫"}).status == 201
    expect(page.locator(".rw-response").last).to_have_text("请重启一下光猫", timeout=10_000)

    # the agent closes; the rating buttons arrive as quick replies and are clicked
    assert agent.post(f"/api/v1/console/handoffs/{handoff_id}/close").status == 200
    expect(page.locator(".rw-reply")).to_have_count(5, timeout=10_000)
    page.locator(".rw-reply", has_text="5 分").click()
    expect(page.locator(".rw-client").last).to_have_text("5 分")
    expect(page.locator(".rw-response").last).to_contain_text("感谢您的评价", timeout=20_000)
    assert not [e for e in errors if "Uncaught" in e or "CORS" in e], errors
