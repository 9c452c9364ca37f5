from __future__ import annotations

from griddesk.db import session_scope
from tests.tickets.factories import make_ticket
from tickets.service import LookupStatus, lookup_ticket, my_tickets


def test_the_right_last_four_digits_find_the_ticket(settings, clock):
    with session_scope() as session:
        number = make_ticket(session, clock, phone="13812345678").number
        result = lookup_ticket(session, "stranger", number.lower().replace("-", ""), "5678", now=clock)
        assert result.status is LookupStatus.FOUND and result.ticket.number == number


def test_wrong_digits_and_unknown_numbers_look_exactly_the_same(settings, clock):
    with session_scope() as session:
        number = make_ticket(session, clock).number
        wrong = lookup_ticket(session, "stranger", number, "0000", now=clock)
        unknown = lookup_ticket(session, "stranger", "GD-ZZZZZZ", "5678", now=clock)
        garbage = lookup_ticket(session, "stranger", number, "56", now=clock)
    assert wrong == unknown == garbage
    assert wrong.status is LookupStatus.DENIED and wrong.ticket is None and wrong.locked_until is None


def test_five_failures_lock_that_ticket_for_this_conversation_for_15_minutes(settings, clock):
    with session_scope() as session:
        number = make_ticket(session, clock).number
        results = [lookup_ticket(session, "guesser", number, f"{i:04d}", now=clock).status for i in range(5)]
        assert results == [LookupStatus.DENIED] * 4 + [LookupStatus.LOCKED]
        # Even the right digits are refused while locked …
        assert lookup_ticket(session, "guesser", number, "5678", now=clock).status is LookupStatus.LOCKED
        # … but another conversation is not locked out by this one.
        assert lookup_ticket(session, "owner", number, "5678", now=clock).status is LookupStatus.FOUND
        clock.advance(minutes=14, seconds=59)
        assert lookup_ticket(session, "guesser", number, "5678", now=clock).status is LookupStatus.LOCKED
        clock.advance(seconds=2)
        assert lookup_ticket(session, "guesser", number, "5678", now=clock).status is LookupStatus.FOUND


def test_guessing_many_numbers_locks_the_conversation(settings, clock):
    with session_scope() as session:
        number = make_ticket(session, clock).number
        statuses = [lookup_ticket(session, "scanner", f"GD-AAAA{c}{c}", "1234", now=clock).status for c in "23456789AB"]
        assert statuses[-1] is LookupStatus.LOCKED
        assert lookup_ticket(session, "scanner", number, "5678", now=clock).status is LookupStatus.LOCKED


def test_my_tickets_lists_only_phones_this_conversation_proved(settings, clock):
    with session_scope() as session:
        mine = make_ticket(session, clock, phone="13812345678", sender_id="me").number
        make_ticket(session, clock, phone="13900001111", sender_id="someone-else")
        assert [t.number for t in my_tickets(session, "me")] == [mine]
        assert my_tickets(session, "new-conversation") == []
        lookup_ticket(session, "new-conversation", mine, "5678", now=clock)
        assert [t.number for t in my_tickets(session, "new-conversation")] == [mine]
