"""The rate counters: sliding windows in the database, atomic across connections, all or nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from griddesk import ratelimit
from griddesk.db import session_scope
from griddesk.ratelimit import Limit, RateCounter, add, forget, key_of, peek, purge, take
from tests.races import race

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # a whole minute: windows of 60 s start here
PER_MINUTE = Limit("test.minute", 10, 60)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def rows() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(RateCounter)) or 0


def test_a_key_gets_its_limit_then_a_refusal_that_says_how_long_to_wait(settings):
    checks = [(PER_MINUTE, key_of("203.0.113.5"))]
    assert all(take(checks, at(10)).allowed for _ in range(10))
    refused = take(checks, at(10))
    # at 66 the 10 events of the first minute still weigh 10 × (1 - 6/60) = 9: one more fits
    assert not refused.allowed and refused.retry_after == 56
    assert take([(PER_MINUTE, key_of("203.0.113.6"))], at(10)).allowed  # another key has its own count


def test_the_previous_window_counts_by_its_share_so_a_boundary_is_no_double_burst(settings):
    checks = [(PER_MINUTE, key_of("a"))]
    for _ in range(10):
        assert take(checks, at(59)).allowed
    assert not take(checks, at(60)).allowed  # a second later: still 10 in the last minute
    assert [take(checks, at(90)).allowed for _ in range(6)] == [True] * 5 + [False]  # half of the 10 left


def test_the_wait_it_names_is_exactly_when_the_next_event_is_allowed(settings):
    for limit, burst_at, burst in [
        (Limit("w.a", 10, 60), 59, 10),
        (Limit("w.b", 3, 600), 100, 3),
        (Limit("w.c", 1, 60), 0, 1),
    ]:
        checks = [(limit, key_of("k"))]
        for _ in range(burst):
            assert take(checks, at(burst_at)).allowed
        refused = take(checks, at(burst_at + 0.5))
        assert not refused.allowed
        retry = burst_at + 0.5 + refused.retry_after
        assert not peek(checks, at(retry - 1.5)).allowed, limit
        assert peek(checks, at(retry)).allowed, limit


def test_a_refused_event_is_counted_nowhere(settings):
    small, big = Limit("t.small", 1, 60), Limit("t.big", 100, 60)
    checks = [(big, key_of("x")), (small, key_of("y"))]
    assert take(checks, at(1)).allowed
    for _ in range(5):
        assert not take(checks, at(2)).allowed
    assert take([(big, key_of("x"))], at(3)).allowed
    with session_scope() as session:
        counts = dict(session.execute(select(RateCounter.bucket, RateCounter.count)).all())
    assert counts == {"t.big": 2, "t.small": 1}  # the refusals left no trace, not even on the check that allowed them


def test_a_limit_of_zero_allows_everything_and_writes_nothing(settings):
    off = Limit("t.off", 0, 60)
    assert all(take([(off, key_of("x"))], at(1)).allowed for _ in range(50))
    assert peek([(off, key_of("x"))], at(1)).allowed and add([(off, key_of("x"))], at(1)).allowed
    assert rows() == 0


def test_add_counts_whatever_the_count_and_peek_counts_nothing(settings):
    checks = [(Limit("t.fail", 3, 900), key_of("zhang.wei"))]
    assert add(checks, at(0)).allowed and add(checks, at(1)).allowed
    third = add(checks, at(2))
    assert not third.allowed and third.retry_after > 0  # the next one would be refused
    assert not add(checks, at(3)).allowed
    for _ in range(5):
        assert not peek(checks, at(4)).allowed
    with session_scope() as session:
        assert session.scalar(select(RateCounter.count)) == 4


def test_concurrent_takers_on_several_connections_get_exactly_the_limit(settings):
    checks = [(Limit("t.race", 25, 60), key_of("one address"))]
    with ThreadPoolExecutor(max_workers=8) as pool:
        verdicts = list(pool.map(lambda _: take(checks, at(5)), range(80)))
    assert sum(v.allowed for v in verdicts) == 25


def test_rows_two_windows_old_are_purged_and_counts_can_be_forgotten_by_key_prefix(settings):
    minute, hour = Limit("t.minute", 5, 60), Limit("t.hour", 5, 3600)
    take([(minute, key_of("a")), (hour, key_of("a"))], at(0))
    take([(minute, key_of("a"))], at(61))
    assert purge(at(119)) == 0
    assert purge(at(120)) == 1  # the first minute's row: no window can use it any more
    assert rows() == 2
    pair = key_of("zhang.wei") + key_of("203.0.113.5")
    add([(Limit("t.pair", 5, 900), pair)], at(0))
    add([(Limit("t.pair", 5, 900), key_of("zhang.wei") + key_of("198.51.100.7"))], at(0))
    assert forget("t.pair", key_of("zhang.wei")) == 2


def test_keys_are_stored_hashed():
    assert key_of("203.0.113.5") != "203.0.113.5" and len(key_of("203.0.113.5")) == 32
    assert key_of("a", "b") != key_of("ab") and key_of("\ud800")  # lone surrogates hash too
    assert ratelimit.ALLOWED.allowed


def test_takers_naming_two_limits_in_opposite_orders_neither_deadlock_nor_pass_the_limit(settings):
    # each take() locks one counter row per limit: in one order for all callers, or PostgreSQL would find
    # a deadlock between a caller holding the address's row and one holding the conversation's
    by_address = (Limit("t.address", 12, 60), key_of("203.0.113.5"))
    by_conversation = (Limit("t.conversation", 1000, 60), key_of("tg:1"))
    orders = [[by_address, by_conversation], [by_conversation, by_address]]
    outcomes = race([lambda checks=orders[i % 2]: [take(checks, at(5)) for _ in range(4)] for i in range(8)])
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    assert sum(v.allowed for verdicts in outcomes for v in verdicts) == 12  # type: ignore[union-attr]
    with session_scope() as session:
        counts = dict(session.execute(select(RateCounter.bucket, RateCounter.count)).all())
    assert counts == {"t.address": 12, "t.conversation": 12}  # refused events counted nowhere
