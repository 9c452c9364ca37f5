"""The grid performance reports in a real browser against the real stack, its database filled by
``python -m reports demo-data`` at a small scale: a grid manager reads the dashboard (KPI tiles against their
targets, the trend, the periods, the breakdowns, the CSV export) and the printable monthly report; an agent is
refused. Neither page may trip the CSP or throw: every console error and policy violation fails the test."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from accounts.management import create_account
from accounts.models import Role
from griddesk.db import make_engine
from grids.models import GridMembership
from grids.sla import SERVICE_TZ

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PASSWORD = "reports-pass-123"
GRIDS = ("cd-wuhou", "cd-jinjiang")  # the manager's
PEOPLE = {  # username: (display name, role, grids)
    "it.rp.manager": ("郑经理", Role.MANAGER, GRIDS),
    "it.rp.agent": ("钱客服", Role.AGENT, GRIDS[:1]),
}
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# every policy violation the page meets, recorded before any of its scripts runs
WATCH_CSP = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push([event.violatedDirective, event.blockedURI, event.sourceFile, event.lineNumber].join(" "));
});
"""


@pytest.fixture(scope="module")
def activity(stack) -> None:
    """A small deterministic year of activity in the stack's database, through the generator's command line."""
    env = {
        **os.environ,
        "GRIDDESK_DATA_DIR": str(stack.settings.data_dir),
        "GRIDDESK_DATABASE_URL": stack.settings.database_url,  # SQLite in the data folder, or PostgreSQL
    }
    done = subprocess.run(
        [sys.executable, "-m", "reports", "demo-data", "--scale", "0.01", "--seed", "15", "--force"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def people(stack, activity) -> None:
    engine = make_engine(stack.settings.database_url)
    with Session(engine) as session, session.begin():
        for username, (name, role, grids) in PEOPLE.items():
            account = create_account(session, username, name, role, PASSWORD)
            for grid in grids:
                session.add(GridMembership(grid_code=grid, account_id=account.id))
    engine.dispose()


class Watched:
    """Logged-in pages whose console errors, uncaught exceptions and CSP violations are collected."""

    def __init__(self, browser: Browser, base: str) -> None:
        self.browser = browser
        self.base = base
        self.contexts: list = []
        self.pages: list[Page] = []
        self.errors: list[str] = []

    def log_in(self, username: str, viewport: dict[str, int] = DESKTOP) -> Page:
        context = self.browser.new_context(
            base_url=self.base, locale="zh-CN", timezone_id="Asia/Shanghai", viewport=viewport, accept_downloads=True
        )
        context.add_init_script(WATCH_CSP)
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: self._console(message))
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.goto("/console/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        expect(page).to_have_url(f"{self.base}/console/")
        self.pages.append(page)
        return page

    def _console(self, message) -> None:
        if message.type in ("error", "warning"):
            self.errors.append(f"console {message.type}: {message.text} @ {message.location}")

    def violations(self) -> list[str]:
        found: list[str] = []
        for page in self.pages:
            if not page.is_closed():
                found += page.evaluate("window.__violations || []")
        return found

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def watched(browser: Browser, stack, people) -> Iterator[Watched]:
    pages = Watched(browser, stack.settings.gateway_url)
    yield pages
    violations = pages.violations()
    pages.close()
    assert not pages.errors, pages.errors
    assert not violations, violations


def api(page: Page, path: str, **params: str) -> dict:
    """The reports API as the page's account sees it (the context's session cookie)."""
    response = page.request.get(f"{path}?{urllib.parse.urlencode(params)}")
    assert response.ok, response.text()
    return response.json()


def loaded(page: Page) -> None:
    """The dashboard drew what was last asked for (the button is disabled from the click to the last answer)."""
    expect(page.locator("#rp-apply")).to_be_enabled(timeout=20_000)
    expect(page.locator("#rp-period")).to_contain_text("北京时间")


def sheet_loaded(page: Page) -> None:
    expect(page.locator("#rp-sheet")).to_have_attribute("aria-busy", "false", timeout=20_000)


def chart_option(page: Page, selector: str) -> dict:
    """What ECharts draws in ``selector``: its canvas' size and the option's axis labels and series."""
    return page.evaluate(
        """(selector) => {
          const node = document.querySelector(selector);
          const chart = window.echarts.getInstanceByDom(node);
          const canvas = node.querySelector("canvas");
          if (!chart || !canvas) { return null; }
          const option = chart.getOption();
          const axis = [].concat(option.yAxis, option.xAxis).find((a) => a.type === "category");
          const copy = document.createElement("canvas");  // read a copy: the chart's canvas is never read back
          copy.width = canvas.width;
          copy.height = canvas.height;
          const context = copy.getContext("2d", { willReadFrequently: true });
          context.drawImage(canvas, 0, 0);
          const pixels = context.getImageData(0, 0, copy.width, copy.height).data;
          let inked = 0;
          for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) { inked += 1; } }
          return { width: canvas.getBoundingClientRect().width, height: canvas.getBoundingClientRect().height,
                   labels: axis ? axis.data : [], series: option.series.map((s) => s.name), inked: inked };
        }""",
        selector,
    )


def tile(page: Page, kpi: str):
    return page.locator(f'.rp-tile[data-kpi="{kpi}"]')


def shows_period(page: Page, first: str, last: str, conversations: int) -> None:
    loaded(page)
    expect(page.locator("#rp-period")).to_contain_text(f"（{first} 至 {last}，北京时间）")
    expect(tile(page, "conversations").locator(".rp-tile__value")).to_have_text(str(conversations))


def weeks(first: date, last: date) -> int:
    """ISO weeks (Monday to Sunday) the days ``first``–``last`` touch."""
    return ((last - timedelta(days=last.weekday())) - (first - timedelta(days=first.weekday()))).days // 7 + 1


def test_a_grid_manager_reads_the_dashboard_changes_period_and_breakdown_and_exports(stack, watched):
    manager = watched.log_in("it.rp.manager")
    manager.goto(f"{stack.settings.gateway_url}/console/reports")
    loaded(manager)
    today = datetime.now(SERVICE_TZ).date()

    # this month so far, of the manager's grids: the tiles with their targets, red or green
    month_first = today.replace(day=1)
    expect(manager.locator("#rp-period")).to_contain_text(f"{month_first} 至 {today}")
    body = api(manager, "/api/v1/reports/kpis", **{"from": str(month_first), "to": str(today)})
    assert body["grids"] == sorted(GRIDS)
    expect(tile(manager, "conversations").locator(".rp-tile__value")).to_have_text(
        str(body["kpis"]["conversations"]["value"])
    )
    shown = 0
    for name, kpi in body["kpis"].items():
        if kpi["met"] is None or tile(manager, name).count() == 0:
            continue
        shown += 1
        expect(tile(manager, name)).to_have_class(f"rp-tile rp-tile--{'met' if kpi['met'] else 'missed'}")
        expect(tile(manager, name).locator(".rp-tile__target")).to_contain_text(
            "目标 " + kpi["op"][0].replace(">", "≥").replace("<", "≤")
        )
        expect(tile(manager, name).locator(".rp-flag")).to_have_text("达标" if kpi["met"] else "未达标")
    assert shown >= 3
    colours = manager.evaluate(
        """() => [...document.querySelectorAll(".rp-tile--met, .rp-tile--missed")].map((t) =>
             [t.classList.contains("rp-tile--met"), getComputedStyle(t.querySelector(".rp-tile__value")).color])"""
    )
    assert {colour for met, colour in colours if met} <= {"rgb(26, 127, 55)"}  # --ok: green
    assert {colour for met, colour in colours if not met} <= {"rgb(207, 34, 46)"}  # --danger: red

    # the trend: drawn on a canvas, one group of bars per day so far
    trend = chart_option(manager, "#rp-trend")
    assert trend["width"] > 600 and trend["height"] > 200 and trend["inked"] > 1000, trend
    assert trend["labels"][0] == f"{month_first.month}月1日" and len(trend["labels"]) == today.day
    assert trend["series"] == ["会话量", "转人工", "新建工单", "客户满意度（%）"]

    # a quarter, a year, two days of one's own: the figures reload
    manager.select_option("#rp-kind", "quarter")
    expect(manager.locator("#rp-quarter-pick")).to_be_visible()
    expect(manager.locator("#rp-month-pick")).to_be_hidden()
    quarter_first = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    manager.click("#rp-apply")
    quarter = api(manager, "/api/v1/reports/kpis", **{"from": str(quarter_first), "to": str(today)})
    shows_period(manager, str(quarter_first), str(today), quarter["kpis"]["conversations"]["value"])
    expect(manager.locator("#rp-period")).to_contain_text("季度")
    assert len(chart_option(manager, "#rp-trend")["labels"]) == weeks(quarter_first, today)

    last_year = today.year - 1
    manager.select_option("#rp-kind", "year")
    manager.select_option("#rp-year", str(last_year))
    manager.click("#rp-apply")
    year = api(manager, "/api/v1/reports/kpis", **{"from": f"{last_year}-01-01", "to": f"{last_year}-12-31"})
    shows_period(manager, f"{last_year}-01-01", f"{last_year}-12-31", year["kpis"]["conversations"]["value"])
    assert chart_option(manager, "#rp-trend")["labels"] == [f"{last_year}年{m}月" for m in range(1, 13)]

    first, last = today - timedelta(days=70), today - timedelta(days=1)
    manager.select_option("#rp-kind", "custom")
    manager.fill("#rp-from", str(first))
    manager.fill("#rp-to", str(last))
    manager.click("#rp-apply")
    custom = api(manager, "/api/v1/reports/kpis", **{"from": str(first), "to": str(last)})
    shows_period(manager, str(first), str(last), custom["kpis"]["conversations"]["value"])
    assert custom["kpis"]["conversations"]["value"] > 0
    assert len(chart_option(manager, "#rp-trend")["labels"]) == weeks(first, last)  # > 62 days: by week

    # the breakdowns: Chinese names only, the chart's rows those of the table, 0 where nothing happened
    for dim, header in (("agent", "客服"), ("category", "类别"), ("channel", "渠道"), ("grid", "网格")):
        manager.click(f'.rp-tab[data-dim="{dim}"]')
        expect(manager.locator(f'.rp-tab[data-dim="{dim}"]')).to_have_attribute("aria-selected", "true")
        expect(manager.locator("#rp-breakdown th").first).to_have_text(header, timeout=20_000)
        groups = api(manager, "/api/v1/reports/kpis", **{"from": str(first), "to": str(last), "group_by": dim})
        labels = [group["label"] for group in groups["groups"]]
        assert labels, dim
        expect(manager.locator("#rp-breakdown tbody tr td:first-child")).to_have_text(labels)
        assert not any(group["label"] == group["key"] for group in groups["groups"] if group["key"].isascii())
        assert chart_option(manager, "#rp-breakdown-chart")["labels"] == labels[:20]
    handoffs = manager.locator("#rp-breakdown tbody tr td:nth-child(3)").all_text_contents()
    assert "—" not in handoffs  # a grid without handoffs had 0 of them, not "no data"

    # the CSV export of the view: a download with a BOM and Chinese headers
    manager.click('.rp-tab[data-dim="channel"]')
    expect(manager.locator("#rp-breakdown th").first).to_have_text("渠道", timeout=20_000)
    with manager.expect_download() as event:
        manager.click("#rp-export-csv")
    download = event.value
    assert download.suggested_filename == f"grid-report-all-{first}-{last}-by-channel.csv"
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:2] == ["按渠道", "会话量"]
    assert rows[1][:2] == ["合计", str(custom["kpis"]["conversations"]["value"])]

    # the printable monthly report of the month the period starts in, of the manager's first grid
    manager.click("#rp-monthly")
    month = first.strftime("%Y-%m")
    expect(manager).to_have_url(f"{stack.settings.gateway_url}/console/reports/monthly?grid={GRIDS[1]}&month={month}")
    expect(manager.locator("#rp-sheet-title")).to_have_text(f"成都锦江网格 {first.year}年{first.month}月 服务月报")
    sheet_loaded(manager)
    month_last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    expect(manager.locator("#rp-period")).to_have_text(f"统计时段：{first.replace(day=1)} 至 {month_last}（北京时间）")
    monthly = api(
        manager, "/api/v1/reports/kpis", grid=GRIDS[1], **{"from": str(first.replace(day=1)), "to": str(month_last)}
    )
    kpi_rows = manager.locator("#rp-kpi-table tbody tr")
    expect(kpi_rows.first).to_have_text(re.compile(f"^会话量{monthly['kpis']['conversations']['value']}—"))
    expect(manager.locator("#rp-scorecard th")).to_contain_text(["客服", "接待量"])
    trend = chart_option(manager, "#rp-trend")
    assert trend["width"] > 600 and trend["inked"] > 1000 and len(trend["labels"]) == month_last.day

    # printed: no controls or top bar, the chart redrawn at the print style sheet's 180 mm
    manager.emulate_media(media="print")
    manager.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    expect(manager.locator(".topbar")).to_be_hidden()
    expect(manager.locator(".rp-controls")).to_be_hidden()
    assert abs(chart_option(manager, "#rp-trend")["width"] - 680) <= 2
    manager.emulate_media(media="screen")
    manager.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert chart_option(manager, "#rp-trend")["width"] > 1000  # back to the screen's width


@pytest.mark.parametrize("url", ["/console/reports", "/console/reports/monthly"])
def test_on_a_phone_the_report_pages_fit_the_screen_width(stack, watched, url):
    manager = watched.log_in("it.rp.manager", PHONE)
    manager.goto(stack.settings.gateway_url + url)
    if url.endswith("monthly"):
        sheet_loaded(manager)
    else:
        loaded(manager)
    assert manager.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # wide tables scroll inside
    trend = chart_option(manager, "#rp-trend")
    assert 300 < trend["width"] <= PHONE["width"] and trend["inked"] > 1000


def test_an_agent_is_refused_both_report_pages(stack, watched):
    agent = watched.log_in("it.rp.agent")
    for url in ("/console/reports", "/console/reports/monthly"):
        agent.goto(stack.settings.gateway_url + url)
        expect(agent.locator("#forbidden")).to_be_visible(timeout=10_000)
        expect(agent.locator("#forbidden")).to_contain_text("您没有权限查看数据报表")
        expect(agent.locator("#report")).to_be_hidden()
        expect(agent.locator(".rp-nav")).to_be_hidden()
    assert agent.request.get("/api/v1/reports/kpis").status == 403
