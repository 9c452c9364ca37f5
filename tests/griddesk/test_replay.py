"""Replay guards (``griddesk.replay``): a platform id is taken once within its time, also by processes claiming it
at once on real parallel connections; released, expired or purged, it is taken again."""

from __future__ import annotations

from sqlalchemy import func, select

from griddesk.db import session_scope
from griddesk.replay import ReplayClaim, claim, purge, release
from tests.races import race


def stored() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(ReplayClaim)) or 0


def test_an_id_is_taken_once_within_its_time_and_again_after_it(settings):
    assert claim("telegram", "42", 600, now=1000)
    assert not claim("telegram", "42", 600, now=1599)  # a replay
    assert claim("wecom", "42", 600, now=1000)  # another platform's 42 is another id
    assert claim("telegram", "42", 600, now=1601)  # expired: taken again (and kept until 2201)
    assert not claim("telegram", "42", 600, now=2200)


def test_a_released_id_is_taken_again(settings):
    assert claim("wecom", "777", 600, now=1000)
    release("wecom", "777")  # its handling failed: the platform's redelivery must be handled
    assert claim("wecom", "777", 600, now=1001)


def test_long_ids_are_kept_hashed_and_still_guarded(settings):
    key = "m" * 500
    assert claim("wecom", key, 600, now=1000) and not claim("wecom", key, 600, now=1001)
    assert claim("wecom", key[:-1] + "n", 600, now=1001)  # a different long id is its own
    release("wecom", key)
    assert claim("wecom", key, 600, now=1002)


def test_of_replicas_claiming_one_id_at_once_exactly_one_gets_it(settings):
    outcomes = race([lambda: claim("telegram", "987654", 600, now=1000) for _ in range(6)])
    assert outcomes.count(True) == 1 and outcomes.count(False) == 5
    outcomes = race([lambda: claim("telegram", "987654", 600, now=1700) for _ in range(6)])  # once expired
    assert outcomes.count(True) == 1


def test_expired_guards_are_purged(settings):
    claim("telegram", "1", 600, now=1000)
    claim("telegram", "2", 600, now=1500)
    assert purge(now=1700) == 1 and stored() == 1
    assert claim("telegram", "1", 600, now=1700)
