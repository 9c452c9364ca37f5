"""The customer chat page in a real browser (Debian's Chromium, driven by Playwright)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.integration.client import request

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
def page(browser: Browser, stack) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(stack.settings.gateway_url + "/")
    yield page
    context.close()


def ask(page: Page, text: str) -> None:
    page.fill("#input", text)
    page.press("#input", "Enter")


def test_a_customer_asks_in_the_browser_and_reads_the_answer(page):
    expect(page.locator("h1")).to_contain_text("格网服务")
    ask(page, "你们的服务时间是几点到几点")
    expect(page.locator(".msg--me").last).to_have_text("你们的服务时间是几点到几点")
    expect(page.locator(".msg--bot").last).to_contain_text("8:00", timeout=15_000)
    ask(page, "你們的電話是多少")
    expect(page.locator(".msg--bot").last).to_contain_text("400-800-1234", timeout=15_000)


def test_suggestion_buttons_can_be_clicked(page):
    ask(page, "账单和那个票的事")
    buttons = page.locator(".msg--bot .msg__buttons button")
    expect(buttons.last).to_have_text("都不是", timeout=15_000)
    count_before = page.locator(".msg--bot").count()
    buttons.first.click()
    expect(page.locator(".msg--bot")).to_have_count(count_before + 1, timeout=15_000)
    expect(buttons.first).to_be_disabled()


def test_customer_text_is_shown_as_text_never_as_html(page):
    hostile = '<img src=x onerror="window.__pwned=1"><b>粗体</b>'
    ask(page, hostile)
    expect(page.locator(".msg--me").last).to_have_text(hostile)
    expect(page.locator(".msg--bot")).to_have_count(2, timeout=15_000)
    assert page.locator("#log img, #log b").count() == 0
    assert page.evaluate("window.__pwned === undefined")


def test_an_empty_message_is_not_sent_and_a_refused_one_is_explained(page):
    page.fill("#input", "   ")
    page.press("#input", "Enter")
    expect(page.locator(".msg--me")).to_have_count(0)
    ask(page, "长" * 3000)  # nothing cuts it short (no maxlength): the gateway refuses it and says why
    expect(page.locator(".msg--system").last).to_contain_text("消息过长：最多 2000 个字符", timeout=15_000)
    expect(page.locator("#input")).to_have_value("长" * 3000)  # back in the box, to shorten or split
    expect(page.locator(".msg--me")).to_have_count(0)


def test_ticket_progress_appears_in_an_open_chat_and_again_on_the_next_visit(page, stack):
    from sqlalchemy.orm import Session

    from griddesk.db import make_engine
    from tests.tickets.factories import make_ticket
    from tickets.models import TicketState
    from tickets.notify import notify_state_change
    from tickets.service import transition

    ask(page, "你好")
    expect(page.locator(".msg--bot")).to_have_count(2, timeout=15_000)
    sender = page.evaluate("window.localStorage.getItem('griddesk.sender')")
    engine = make_engine(stack.settings.database_url)
    with Session(engine) as session:
        number = make_ticket(session, sender_id=sender).number
        notify_state_change(session, transition(session, number, TicketState.ANALYSING, "agent"))
        session.commit()
    engine.dispose()
    notice = page.locator(".msg--system", has_text=number)
    expect(notice).to_have_count(1, timeout=10_000)  # pushed to the open page by its poll
    expect(notice).to_contain_text("分析中")
    page.reload()
    expect(page.locator(".msg--system", has_text=number)).to_have_count(1, timeout=10_000)
    expect(page.locator(".msg--me", has_text="你好")).to_have_count(1)  # the earlier exchange is back too


def credentials(page: Page) -> tuple[str, str | None]:
    return (
        page.evaluate("window.localStorage.getItem('griddesk.sender')"),
        page.evaluate("window.localStorage.getItem('griddesk.key')"),
    )


def test_the_page_binds_its_conversation_to_a_key_that_its_calls_and_live_socket_present(page, stack):
    ask(page, "你好")
    expect(page.locator(".msg--bot")).to_have_count(2, timeout=15_000)
    sender, key = credentials(page)
    assert key and len(key) >= 43
    history = f"{stack.settings.gateway_url}/webhooks/rest/history?sender={sender}"
    assert request("GET", history).status == 403  # the sender id alone opens nothing
    assert request("GET", history, headers={"X-GridDesk-Key": key}).status == 200
    frames: list[object] = []

    def watch(socket) -> None:
        if "/webhooks/rest/live" in socket.url:
            socket.on("framereceived", lambda payload: frames.append(payload))

    page.on("websocket", watch)
    page.reload()
    expect(page.locator(".msg--me", has_text="你好")).to_have_count(1, timeout=10_000)
    for _ in range(100):  # the live socket opened with the key: its first frames arrive
        if frames:
            break
        page.wait_for_timeout(100)
    assert frames, "the live socket did not open with the conversation key"
    assert credentials(page) == (sender, key)


def test_a_page_whose_key_no_longer_fits_starts_a_new_conversation(page):
    ask(page, "你好")
    expect(page.locator(".msg--bot")).to_have_count(2, timeout=15_000)
    sender, _key = credentials(page)
    page.evaluate("window.localStorage.setItem('griddesk.key', 'x'.repeat(43))")
    page.reload()
    expect(page.locator(".msg--system", has_text="已为您开始新的会话")).to_have_count(1, timeout=10_000)
    ask(page, "你們的電話是多少")
    expect(page.locator(".msg--bot").last).to_contain_text("400-800-1234", timeout=15_000)
    new_sender, new_key = credentials(page)
    assert new_sender != sender and new_key and new_key != "x" * 43


def test_a_pressed_button_shows_its_title_after_a_reload_and_only_the_latest_buttons_work(page):
    ask(page, "你们的服务时间是几点到几点")
    helpful = page.locator(".msg--bot .msg__buttons button", has_text="有帮助")
    expect(helpful).to_have_count(1, timeout=15_000)
    helpful.click()
    expect(page.locator(".msg--me").last).to_have_text("有帮助")
    expect(page.locator(".msg--bot")).to_have_count(3, timeout=15_000)  # greeting, answer, thanks
    ask(page, "账单和那个票的事")  # suggestions: the buttons of the latest turn
    expect(page.locator(".msg--bot .msg__buttons button").last).to_have_text("都不是", timeout=15_000)

    page.reload()
    mine = page.locator(".msg--me")
    expect(mine).to_have_text(["你们的服务时间是几点到几点", "有帮助", "账单和那个票的事"], timeout=15_000)
    expect(page.locator(".msg--bot .msg__buttons button", has_text="有帮助")).to_be_disabled()
    expect(page.locator(".msg--bot .msg__buttons button", has_text="没帮助")).to_be_disabled()
    expect(page.locator(".msg--bot .msg__buttons button", has_text="都不是")).to_be_enabled()
