"""The customer's rating of a closed handoff."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from conversations.rating_tokens import rating_token_of, without_rating_token
from griddesk.db import session_scope
from handoff.models import Rating
from handoff.ownership import HandoffNotFound
from handoff.queue import queue_status
from handoff.rating import AlreadyRated, InvalidRating, InvalidRatingToken, rate, rating_payload
from tests.factories import make_conversation, make_handoff
from tests.handoff.helpers import NOW, closed_handoff, later


# --- rating ---------------------------------------------------------------------------------------
def test_a_closed_handoff_is_rated_once(settings):
    with session_scope() as session:
        handoff, token = closed_handoff(session)
        rating = rate(session, "customer-1", handoff.id, 5, " 很满意 ", later(minutes=6), token=token)
        assert (rating.score, rating.comment, rating.handoff_id) == (5, "很满意", handoff.id)
        assert queue_status(session, "customer-1", NOW).rating_pending is False
        with pytest.raises(AlreadyRated):
            rate(session, "customer-1", handoff.id, 1, None, later(minutes=7), token=token)
        assert session.scalar(select(func.count()).select_from(Rating)) == 1


def test_a_rating_for_someone_elses_or_an_open_handoff_is_not_found(settings):
    with session_scope() as session:
        handoff, token = closed_handoff(session)
        make_conversation(session, "intruder")
        with pytest.raises(HandoffNotFound):
            rate(session, "intruder", handoff.id, 1, "", NOW, token=token)
        waiting = make_handoff(session, "c2", now=NOW)
        with pytest.raises(HandoffNotFound):
            rate(session, "c2", waiting.id, 5, "", NOW, token=token)
        assert session.scalar(select(Rating)) is None


@pytest.mark.parametrize(
    "score, comment", [(0, ""), (6, ""), ("5", ""), (True, ""), (4.5, ""), (3, "长" * 501), (3, 42)]
)
def test_a_rating_outside_one_to_five_or_with_a_huge_comment_is_invalid(settings, score, comment):
    with session_scope() as session:
        handoff, token = closed_handoff(session)
        with pytest.raises(InvalidRating):
            rate(session, "customer-1", handoff.id, score, comment, NOW, token=token)


# --- the one-time rating token ---------------------------------------------------------------------
@pytest.mark.parametrize("token", [None, "", "wrong-token", 42, "x" * 5000])
def test_a_rating_without_the_token_of_the_close_notice_is_refused(settings, token):
    with session_scope() as session:
        handoff, right = closed_handoff(session)
        with pytest.raises(InvalidRatingToken) as refused:
            rate(session, "customer-1", handoff.id, 5, "", NOW, token=token)
        assert refused.value.code == "invalid_rating_token" and "评分按钮" in refused.value.message
        assert session.scalar(select(Rating)) is None
        assert queue_status(session, "customer-1", NOW).rating_pending is True
        rate(session, "customer-1", handoff.id, 5, "", NOW, token=right)  # the customer still can


def test_each_closed_handoff_has_its_own_token(settings):
    with session_scope() as session:
        _first, first_token = closed_handoff(session, "customer-1")
        second, second_token = closed_handoff(session, "customer-2")
        assert first_token != second_token
        with pytest.raises(InvalidRatingToken):
            rate(session, "customer-2", second.id, 1, "", NOW, token=first_token)


def test_a_rating_payload_carries_the_token_and_staff_see_it_without():
    payload = rating_payload(4, "tok-en_123")
    assert payload == '/griddesk_rate{"score": 4, "token": "tok-en_123"}'
    assert rating_token_of(payload) == "tok-en_123"
    assert without_rating_token(payload) == '/griddesk_rate{"score": 4}'
    assert rating_token_of('/griddesk_rate{"score": 4}') is None
    assert rating_token_of('/griddesk_rate{"score": 4, "token": 7}') is None
    assert without_rating_token("/griddesk_rate{not json}") == "/griddesk_rate{not json}"
    assert without_rating_token("你好") == "你好"
