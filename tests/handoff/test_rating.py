"""The customer's rating of a closed handoff."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from griddesk.db import session_scope
from handoff.models import Rating
from handoff.ownership import HandoffNotFound
from handoff.queue import queue_status
from handoff.rating import AlreadyRated, InvalidRating, rate
from tests.factories import make_conversation, make_handoff
from tests.handoff.helpers import NOW, closed_handoff, later


# --- rating ---------------------------------------------------------------------------------------
def test_a_closed_handoff_is_rated_once(settings):
    with session_scope() as session:
        handoff = closed_handoff(session)
        rating = rate(session, "customer-1", handoff.id, 5, " 很满意 ", later(minutes=6))
        assert (rating.score, rating.comment, rating.handoff_id) == (5, "很满意", handoff.id)
        assert queue_status(session, "customer-1", NOW).rating_pending is False
        with pytest.raises(AlreadyRated):
            rate(session, "customer-1", handoff.id, 1, None, later(minutes=7))
        assert session.scalar(select(func.count()).select_from(Rating)) == 1


def test_a_rating_for_someone_elses_or_an_open_handoff_is_not_found(settings):
    with session_scope() as session:
        handoff = closed_handoff(session)
        make_conversation(session, "intruder")
        with pytest.raises(HandoffNotFound):
            rate(session, "intruder", handoff.id, 1, "", NOW)
        waiting = make_handoff(session, "c2", now=NOW)
        with pytest.raises(HandoffNotFound):
            rate(session, "c2", waiting.id, 5, "", NOW)
        assert session.scalar(select(Rating)) is None


@pytest.mark.parametrize(
    "score, comment", [(0, ""), (6, ""), ("5", ""), (True, ""), (4.5, ""), (3, "长" * 501), (3, 42)]
)
def test_a_rating_outside_one_to_five_or_with_a_huge_comment_is_invalid(settings, score, comment):
    with session_scope() as session:
        handoff = closed_handoff(session)
        with pytest.raises(InvalidRating):
            rate(session, "customer-1", handoff.id, score, comment, NOW)
