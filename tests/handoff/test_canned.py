from __future__ import annotations

import json

from griddesk.db import session_scope
from handoff.canned import SEED_FILE, canned_replies, seed_canned_replies
from handoff.models import CannedReply


def test_the_shipped_canned_replies_are_loaded_once(settings):
    shipped = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    assert 8 <= len([r for r in shipped if "grid" not in r]) <= 10
    with session_scope() as session:
        assert seed_canned_replies(session) == len(shipped)
        assert seed_canned_replies(session) == 0
        assert len(canned_replies(session, None)) == len(shipped)


def test_an_agent_sees_the_global_replies_first_then_those_of_their_grids(settings):
    with session_scope() as session:
        session.add_all(
            [
                CannedReply(grid_code="billing", title="账单", text="请提供账单月份。"),
                CannedReply(title="问候", text="您好!"),
                CannedReply(grid_code="sh-pudong", title="浦东", text="浦东专线。"),
            ]
        )
        session.flush()
        assert [r.title for r in canned_replies(session, ["billing"])] == ["问候", "账单"]
        assert [r.title for r in canned_replies(session, [])] == ["问候"]
