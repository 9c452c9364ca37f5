"""The curation log of searches the bot could not answer confidently."""

from __future__ import annotations

from griddesk.db import session_scope
from knowledge_base.index import Decision, SearchResult
from knowledge_base.misses import log_miss


def test_a_fallback_is_logged_as_a_miss_and_a_suggestion_as_low_confidence(settings):
    with session_scope() as session:
        miss = log_miss(session, SearchResult("火星上能开发票吗", Decision.FALLBACK), sender_id="c1", grid="cd-wuhou")
        low = log_miss(session, SearchResult("发票那个", Decision.SUGGEST))
        session.flush()
        assert (miss.kind, miss.decision, miss.grid) == ("miss", "fallback", "cd-wuhou")
        assert (low.kind, low.decision) == ("low_confidence", "suggest")
        assert miss.resolved_at is None
