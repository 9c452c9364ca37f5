"""Curation lists: finding FAQs by text, category, grid, status and review."""

from __future__ import annotations

from griddesk.db import session_scope
from knowledge_base.curation import drafts, finding
from knowledge_base.curation.base import FaqDraft
from tests.factories import make_demo_faqs
from tests.knowledge_base.curation.common import ADMIN, published


def test_find_faqs_filters_by_text_category_grid_status_and_review(settings):
    with session_scope() as session:
        make_demo_faqs(session)
        grid_faq = published(session, FaqDraft("武侯营业厅在哪", ["武侯营业厅地址"], "一环路。", "网点", "cd-wuhou"))
        draft = drafts.create_faq(session, FaqDraft("怎么注销", [], "营业厅办理。", "账户与密码"), ADMIN)
        assert [f.id for f in finding.find_faqs(session, text="营业厅地址")[0]] == [grid_faq.id]  # a similar q
        faqs, total = finding.find_faqs(session, text="发票")
        assert total == 1 and faqs[0].question == "怎么开发票"
        assert finding.find_faqs(session, grid="cd-wuhou")[1] == 1
        assert finding.find_faqs(session, grid="global")[1] == 6
        assert [f.id for f in finding.find_faqs(session, status="draft")[0]] == [draft.id]
        assert [f.id for f in finding.find_faqs(session, review="draft")[0]] == [draft.id]
        assert finding.find_faqs(session, category="账户与密码")[1] == 2
        assert finding.find_faqs(session, visible_grids=["sh-pudong"])[1] == 6
        page, total = finding.find_faqs(session, limit=2, offset=2)
        assert len(page) == 2 and total == 7
        assert finding.find_faqs(session, text="100%")[1] == 0
