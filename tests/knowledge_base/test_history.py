"""FAQ history: immutable versions and events, their authors, and the diff between versions."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from accounts.models import Role
from accounts.principals import Principal
from griddesk.db import session_scope
from knowledge_base import history
from knowledge_base.curation import drafts
from knowledge_base.curation.base import FaqDraft
from knowledge_base.models import FaqVersion
from tests.factories import make_account
from tests.knowledge_base.curation.common import ADMIN, INVOICE, published


def test_versions_and_events_cannot_be_changed_or_deleted(settings):
    with session_scope() as session:
        faq_id = published(session).id
    for statement in (
        "UPDATE kb_faq_version SET answer = 'x'",
        "DELETE FROM kb_faq_version",
        "UPDATE kb_faq_event SET note = 'x'",
        "DELETE FROM kb_faq_event",
    ):
        with pytest.raises(DatabaseError, match="append-only"), session_scope() as session:
            session.execute(text(statement))
    with session_scope() as session:
        assert session.scalar(select(FaqVersion.answer).where(FaqVersion.faq_id == faq_id)) == INVOICE.answer


def test_the_diff_shows_character_edits_per_field(settings):
    with session_scope() as session:
        faq_id = published(session).id
        drafts.save_draft(
            session,
            faq_id,
            FaqDraft("怎么开发票", ["如何开具发票", "我要开票"], "请在公众号申请纸质发票。", "发票"),
            ADMIN,
            expected_version=2,
        )
        diffs = {d.field: d for d in history.diff(session, faq_id, 1, 2)}
    assert set(diffs) == {"question", "similar_questions", "answer", "category", "grid"}
    assert not diffs["question"].changed and diffs["question"].ops == [("equal", "怎么开发票")]
    assert ("delete", "电子") in diffs["answer"].ops and ("insert", "纸质") in diffs["answer"].ops
    assert diffs["similar_questions"].after == "如何开具发票\n我要开票"
    assert ("insert", "\n我要开票") in diffs["similar_questions"].ops


def test_history_names_the_authors(settings):
    with session_scope() as session:
        account = make_account(session, "editor", Role.ADMIN, display_name="编辑小王")
        editor = Principal(account.id, "editor", "编辑小王", Role.ADMIN, ())
        faq_id = published(session, actor=editor).id
        views = history.history(session, faq_id)
        events = history.events(session, faq_id)
    assert views[0].author == f"account:{account.id}" and views[0].author_name == "编辑小王"
    assert events[0].kind == "published" and events[0].actor_name == "编辑小王"
