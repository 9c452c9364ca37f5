"""The knowledge base's list and usage pages in Chromium against the real stack (issue 14 items 11 and 12):
at 1280 px the FAQ list gives the question the room; the usage page shows data as soon as it opens (every
FAQ summed and the most used FAQs, no search needed), counts days in Beijing time whatever the browser's
time zone, and draws each series in a lane of its own; the inbox names the closest FAQ by its question (item
13). Screenshots at desktop and phone sizes go to
``GRIDDESK_SCREENSHOTS`` when it is set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from accounts.management import create_account
from accounts.models import Role
from accounts.principals import Principal
from griddesk.db import make_engine
from grids.sla import SERVICE_TZ
from knowledge_base.curation import drafts, review
from knowledge_base.curation.base import FaqDraft
from knowledge_base.models import Miss, UsageKind
from knowledge_base.usage import record_usage

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PASSWORD = "kb-pages-pass-123"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
QUESTION = "宽带账户的月度使用报告在哪里查看"
UNSURE = "量子纠缠能不能当网线用"
ASKED = "火星基地的宽带什么时候开通"
PROPOSED = "火星基地暂未开通宽带业务。"


@pytest.fixture(scope="module")
def usage_faq(stack) -> dict[str, object]:
    """An admin account and an FAQ of this test's own, used at 00:30 Beijing time today (16:30 UTC the day
    before: a UTC count would put it on yesterday) and on the two days before."""
    engine = make_engine(stack.settings.database_url)
    with Session(engine) as session, session.begin():
        account = create_account(session, "it.kbpages", "周编辑", Role.ADMIN, PASSWORD)
        admin = Principal(account.id, account.username, account.display_name, Role.ADMIN, ())
        faq = drafts.create_faq(session, FaqDraft(QUESTION, [], "在「我的宽带」→「使用报告」中查看。"), admin)
        faq_id = review.publish(session, faq.id, admin).id
        today = datetime.now(SERVICE_TZ).replace(hour=0, minute=30, second=0, microsecond=0)
        for days_ago, answered in ((0, 7), (1, 3), (2, 5)):
            record_usage(session, faq_id, UsageKind.ANSWERED, n=answered, at=today - timedelta(days=days_ago))
        record_usage(session, faq_id, UsageKind.SUGGESTED, n=40, at=today)
        record_usage(session, faq_id, UsageKind.HELPFUL, n=2, at=today)
        # the inbox: a question the bot was unsure of, closest to this FAQ, and what an agent answered
        session.add(Miss(text=UNSURE, normalized=UNSURE, decision="suggest", kind="low_confidence", top_faq_id=faq_id))
        session.add(Miss(text=ASKED, normalized=ASKED, decision="agent", kind="agent_answer", proposed_answer=PROPOSED))
    engine.dispose()
    return {"id": faq_id, "today": today.date().isoformat(), "yesterday": (today.date() - timedelta(1)).isoformat()}


@pytest.fixture
def page(browser: Browser, stack, usage_faq) -> Iterator[Page]:
    """Logged in, in a browser whose clock is in New York: nothing may depend on the browser's time zone."""
    context = browser.new_context(locale="zh-CN", timezone_id="America/New_York", viewport=DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{stack.settings.gateway_url}/console/login")
    page.fill("#username", "it.kbpages")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page).to_have_url(f"{stack.settings.gateway_url}/console/")
    yield page
    context.close()
    assert errors == []


def screenshot(page: Page, name: str) -> None:
    folder = os.environ.get("GRIDDESK_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def boxes(page: Page, selector: str) -> list[dict[str, float]]:
    return page.eval_on_selector_all(
        selector,
        "nodes => nodes.map(n => { const r = n.getBoundingClientRect();"
        " return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, width: r.width}; })",
    )


def test_the_faq_list_gives_the_question_the_room_at_1280_px(stack, page):
    page.goto(f"{stack.settings.gateway_url}/console/kb")
    rows = page.locator("#kb-rows .kb-row")
    expect(rows.first).to_be_visible(timeout=10_000)
    [column] = boxes(page, ".kb-table thead th:nth-child(2)")
    assert column["width"] >= 250, column  # was 50 px: 2–4 characters a line
    questions = boxes(page, "#kb-rows .kb-row__text")
    assert questions and max(q["bottom"] - q["top"] for q in questions) < 80, questions  # a line or two, not a column
    screenshot(page, "kb-list-desktop")
    page.set_viewport_size(PHONE)
    expect(rows.first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "kb-list-phone")


def test_the_usage_page_shows_data_without_a_search_in_beijing_days_one_lane_per_series(stack, page, usage_faq):
    page.goto(f"{stack.settings.gateway_url}/console/kb/usage")
    # without searching: every FAQ summed, and the most used FAQs with ours among them
    expect(page.locator("#usage-chart rect.kb-chart__bar").first).to_be_visible(timeout=10_000)
    expect(page.locator("#usage-top .kb-top__row", has_text=QUESTION)).to_be_visible()
    assert page.input_value("#usage-search") == ""
    screenshot(page, "kb-usage-desktop")

    page.locator("#usage-top .kb-top__row", has_text=QUESTION).click()
    expect(page).to_have_url(f"{stack.settings.gateway_url}/console/kb/usage?faq={usage_faq['id']}")
    answered = page.locator('#usage-chart g[data-series="answered"] rect.kb-chart__bar')
    expect(answered).to_have_count(3, timeout=10_000)
    counts = {bar.get_attribute("data-day"): bar.get_attribute("data-count") for bar in answered.all()}
    assert counts[usage_faq["today"]] == "7", counts  # 00:30 Beijing time today is today, not yesterday (UTC)
    assert counts[usage_faq["yesterday"]] == "3", counts
    last_day = page.locator("#usage-chart .kb-chart__day").last
    today = datetime.fromisoformat(str(usage_faq["today"]))
    expect(last_day).to_have_text(f"{today.month}/{today.day}")  # not the day before in New York

    # each series in its own lane: no two lanes overlap, and every bar stays inside its lane
    lanes = boxes(page, "#usage-chart g.kb-lane")
    assert len(lanes) == 5
    for upper, lower in pairwise(lanes):
        assert upper["bottom"] <= lower["top"], (upper, lower)
    for series in ("answered", "suggested", "helpful"):
        [lane] = boxes(page, f'#usage-chart g[data-series="{series}"]')
        for bar in boxes(page, f'#usage-chart g[data-series="{series}"] rect'):
            assert lane["top"] <= bar["top"] and bar["bottom"] <= lane["bottom"], (series, lane, bar)
    screenshot(page, "kb-usage-faq-desktop")

    page.set_viewport_size(PHONE)
    page.reload()
    expect(answered).to_have_count(3, timeout=10_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    labels = boxes(page, "#usage-chart .kb-chart__day")
    for left, right in pairwise(labels):
        assert left["right"] <= right["left"], (left, right)  # day labels never touch on a phone
    screenshot(page, "kb-usage-phone")


def test_the_inbox_names_the_closest_faq_by_its_question(stack, page, usage_faq):
    page.goto(f"{stack.settings.gateway_url}/console/kb/inbox")
    unsure = page.locator(".cluster", has_text=UNSURE)
    expect(unsure).to_be_visible(timeout=10_000)
    expect(unsure.locator(".cluster__faq")).to_have_text(f"{QUESTION}（#{usage_faq['id']}）")  # not a bare #123
    asked = page.locator(".cluster", has_text=ASKED)
    expect(asked.locator(".cluster__proposal")).to_have_text(PROPOSED)
    screenshot(page, "kb-inbox-desktop")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "kb-inbox-phone")
