"""The knowledge-base admin pages: each URL serves the shared skeleton (head, top bar, navigation with
its own link marked, confirm dialog) around its own main content and script, with the page CSP."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from griddesk.web.pages import PAGE_CSP

KIT_SCRIPTS = ["/static/kit/common.js", "/static/kit/format.js", "/static/kb/kb-common.js"]
NAV = [
    "/console/kb",
    "/console/kb/import",
    "/console/kb/hit-test",
    "/console/kb/inbox",
    "/console/kb/usage",
    "/console/",
]
PAGES = {  # URL → title, the page's script, an id only its main content has
    "/console/kb": ("问答管理", "/static/kb/kb.js", "faq-form"),
    "/console/kb/import": ("导入导出", "/static/kb/kb-import.js", "import-file"),
    "/console/kb/hit-test": ("命中测试", "/static/kb/kb-hit-test.js", "hit-form"),
    "/console/kb/inbox": ("未解决问题", "/static/kb/kb-inbox.js", "clusters"),
    "/console/kb/usage": ("使用统计", "/static/kb/kb-usage.js", "usage-search"),
}


class Outline(HTMLParser):
    """What the tests look at in a page: its title, script sources, ids, nav links and the current one."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.scripts: list[str] = []
        self.ids: list[str] = []
        self.nav: list[str] = []
        self.current: list[str] = []
        self._in_title = False
        self._in_nav = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if tag == "title":
            self._in_title = True
        elif tag == "script":
            self.scripts.append(attributes.get("src", ""))
        elif tag == "nav" and "kb-nav" in (attributes.get("class") or ""):
            self._in_nav = True
        elif tag == "a" and self._in_nav:
            self.nav.append(attributes["href"])
            if attributes.get("aria-current") == "page":
                self.current.append(attributes["href"])

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag == "nav":
            self._in_nav = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


@pytest.mark.parametrize("url", PAGES)
async def test_each_page_has_the_top_bar_its_own_main_and_script_and_the_page_csp(client, url):
    title, script, own_id = PAGES[url]
    response = await client.get(url)
    assert response.status == 200
    assert response.content_type == "text/html"
    assert response.headers["Content-Security-Policy"] == PAGE_CSP
    assert response.headers["Cache-Control"] == "no-cache"

    page = Outline()
    page.feed(await response.text())
    assert page.title == f"{title} · 知识库 · 格网服务"
    assert page.scripts == [*KIT_SCRIPTS, script]
    assert page.nav == NAV
    assert page.current == [url]
    assert {"me-name", "me-role", "logout", "confirm-dialog", "toast", own_id} <= set(page.ids)
    assert len(page.ids) == len(set(page.ids))  # the skeleton and the fragment share no id
    others = {other_id for other, (_, _, other_id) in PAGES.items() if other != url}
    assert not others & set(page.ids)
