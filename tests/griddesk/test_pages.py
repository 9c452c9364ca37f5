"""The page kit's composer: one skeleton, a title, a main fragment and the page's scripts make a page,
served from memory with the same headers as a page file."""

from __future__ import annotations

import pytest
from aiohttp import web

from griddesk.web.pages import PAGE_CSP, compose, composed_page

SKELETON = """<!doctype html>
<html>
<head>
  <title>{{title}} · Desk</title>
</head>
<body>
  <nav>
    <a href="/one">One</a>
    <a href="/two">Two</a>
  </nav>
{{main}}
  <script src="/static/kit/common.js"></script>
  {{scripts}}
</body>
</html>
"""


@pytest.fixture
def skeleton(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(SKELETON, encoding="utf-8")
    return path


@pytest.fixture
def main(tmp_path):
    path = tmp_path / "one.main.html"
    path.write_text('  <main id="one">\n    <p>{{title}} stays as written</p>\n  </main>\n', encoding="utf-8")
    return path


def test_the_title_is_escaped(skeleton, main):
    page = compose(skeleton, title='<b>"A & B"</b>', main=main, scripts=[])
    assert "<title>&lt;b&gt;&quot;A &amp; B&quot;&lt;/b&gt; · Desk</title>" in page
    assert "<b>" not in page


def test_the_main_fragment_is_inserted_as_written(skeleton, main):
    page = compose(skeleton, title="One", main=main, scripts=[])
    assert '  </nav>\n  <main id="one">\n    <p>{{title}} stays as written</p>\n  </main>\n  <script' in page


def test_the_scripts_follow_the_skeletons_in_order_one_per_line(skeleton, main):
    page = compose(skeleton, title="One", main=main, scripts=["/static/one/a.js", "/static/one/b.js?v=1&x=2"])
    assert (
        '  <script src="/static/kit/common.js"></script>\n'
        '  <script src="/static/one/a.js"></script>\n'
        '  <script src="/static/one/b.js?v=1&amp;x=2"></script>\n</body>'
    ) in page


def test_the_current_pages_link_is_marked_and_no_other(skeleton, main):
    page = compose(skeleton, title="Two", main=main, scripts=[], current="/two")
    assert '<a href="/two" aria-current="page">Two</a>' in page
    assert '<a href="/one">One</a>' in page
    assert page.count("aria-current") == 1
    assert "aria-current" not in compose(skeleton, title="Two", main=main, scripts=[])


def test_a_current_page_missing_from_the_navigation_fails(skeleton, main):
    with pytest.raises(ValueError, match="/three"):
        compose(skeleton, title="Three", main=main, scripts=[], current="/three")


def test_a_skeleton_without_each_placeholder_once_fails(tmp_path, main):
    for text in (SKELETON.replace("{{scripts}}", ""), SKELETON.replace("{{main}}", "{{main}}{{main}}")):
        path = tmp_path / "bad.html"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match="placeholders"):
            compose(path, title="One", main=main, scripts=[])


async def test_a_composed_page_is_served_with_the_page_headers_and_revalidates(aiohttp_client):
    app = web.Application()
    app.router.add_get("/page", composed_page("<!doctype html><p>页面</p>"))
    client = await aiohttp_client(app)

    response = await client.get("/page")
    assert response.status == 200
    assert await response.text() == "<!doctype html><p>页面</p>"
    assert response.content_type == "text/html"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Content-Security-Policy"] == PAGE_CSP

    again = await client.get("/page", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status == 304
    assert again.headers["Content-Security-Policy"] == PAGE_CSP
