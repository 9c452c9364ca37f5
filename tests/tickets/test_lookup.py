from __future__ import annotations

from sqlalchemy import func, select

from griddesk.db import session_scope
from tests.factories import make_conversation, make_customer
from tests.tickets.factories import make_ticket
from tickets.lookup import LookupStatus, lookup_ticket, my_tickets, visible_ticket_numbers
from tickets.models import Alert


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


def test_my_tickets_lists_only_tickets_this_conversation_opened_or_verified(settings, clock):
    with session_scope() as session:
        mine = make_ticket(session, clock, phone="13812345678", sender_id="me").number
        make_ticket(session, clock, phone="13900001111", sender_id="someone-else")
        assert [t.number for t in my_tickets(session, "me")] == [mine]
        assert my_tickets(session, "new-conversation") == []
        lookup_ticket(session, "new-conversation", mine, "5678", now=clock)
        assert [t.number for t in my_tickets(session, "new-conversation")] == [mine]


# --- across conversations (issue 12): per ticket and per client address -------------------------


def guess_rotating(session, clock, number: str, tries: int, prefix: str = "rotating", client=None, first: int = 0):
    """``tries`` wrong answers for ``number``, a new conversation every 4 tries (under its own lock)."""
    return [
        lookup_ticket(session, f"{prefix}-{i // 4}", number, f"{i:04d}", client=client, now=clock).status
        for i in range(first, first + tries)
    ]


def test_a_new_conversation_every_four_guesses_still_locks_the_ticket_after_ten_failures(settings, clock):
    with session_scope() as session:
        number = make_ticket(session, clock, phone="13812345678").number
        statuses = guess_rotating(session, clock, number, 10)
        assert statuses == [LookupStatus.DENIED] * 9 + [LookupStatus.LOCKED]
        # the lock is the ticket's: even the right digits from a conversation never seen before are refused
        assert lookup_ticket(session, "the-owner", number, "5678", now=clock).status is LookupStatus.LOCKED
        clock.advance(hours=11, minutes=59)
        assert lookup_ticket(session, "the-owner", number, "5678", now=clock).status is LookupStatus.LOCKED
        clock.advance(minutes=2)
        assert lookup_ticket(session, "the-owner", number, "5678", now=clock).status is LookupStatus.FOUND


def test_after_a_ticket_lock_ends_one_more_failure_within_the_window_locks_it_again(settings, clock):
    with session_scope() as session:
        number = make_ticket(session, clock).number
        guess_rotating(session, clock, number, 10)
        clock.advance(hours=12, seconds=1)
        assert guess_rotating(session, clock, number, 1, prefix="later") == [LookupStatus.LOCKED]
        clock.advance(hours=12, seconds=1)  # 24 h after the first ten: they no longer count
        assert guess_rotating(session, clock, number, 1, prefix="much-later") == [LookupStatus.DENIED]


def test_locking_a_ticket_alerts_the_manager_of_its_grid_once(settings, clock):
    with session_scope() as session:
        ticket = make_ticket(session, clock, region="成都市武侯区")
        guess_rotating(session, clock, ticket.number, 10)
        clock.advance(hours=12, seconds=1)
        guess_rotating(session, clock, ticket.number, 1, prefix="later")  # locked again, alert still open
        alerts = session.scalars(select(Alert).where(Alert.kind == "lookup_locked")).all()
        assert [(a.grid_code, a.ticket_id) for a in alerts] == [(ticket.grid_code, ticket.id)]
        assert ticket.number in alerts[0].message and "10次" in alerts[0].message and "，" in alerts[0].message


def test_an_unknown_number_answers_exactly_like_a_real_ticket_all_the_way_to_the_lock(settings, clock):
    with session_scope() as session:
        number = make_ticket(session, clock).number
        real = [lookup_ticket(session, f"a-{i // 4}", number, "0000", now=clock) for i in range(11)]
        unknown = [lookup_ticket(session, f"b-{i // 4}", "GD-ZZZZZZ", "0000", now=clock) for i in range(11)]
        assert (
            [r.status for r in real]
            == [r.status for r in unknown]
            == [LookupStatus.DENIED] * 9 + [LookupStatus.LOCKED] * 2
        )
        assert session.scalar(select(func.count()).select_from(Alert)) == 1  # only the real ticket has a grid


def test_one_client_address_rotating_conversations_over_many_tickets_is_locked_out(settings, clock):
    with session_scope() as session:
        tickets = [make_ticket(session, clock, phone=f"1381234{n:04d}").number for n in range(4)]
        statuses = []
        for index, number in enumerate(tickets[:3]):  # 7 + 7 + 6 failures: no ticket reaches its own limit
            tries = 6 if index == 2 else 7
            statuses += guess_rotating(
                session, clock, number, tries, prefix=f"bot-{index}", client="c-attacker", first=100
            )
        assert statuses == [LookupStatus.DENIED] * 19 + [LookupStatus.LOCKED]
        # the address is locked for every ticket, whatever the conversation, even with the right digits …
        found = lookup_ticket(session, "fresh", tickets[3], "0003", client="c-attacker", now=clock)
        assert found.status is LookupStatus.LOCKED
        # … other addresses are not
        ok = lookup_ticket(session, "someone", tickets[3], "0003", client="c-customer", now=clock)
        assert ok.status is LookupStatus.FOUND


# --- what a conversation may see ------------------------------------------------------------------


def test_verifying_one_ticket_does_not_show_the_other_tickets_of_the_same_phone(settings, clock):
    with session_scope() as session:
        first = make_ticket(session, clock, phone="13812345678", sender_id="conversation-a").number
        second = make_ticket(session, clock, phone="13812345678", sender_id="conversation-b").number
        assert lookup_ticket(session, "conversation-c", first, "5678", now=clock).status is LookupStatus.FOUND
        assert [t.number for t in my_tickets(session, "conversation-c")] == [first]
        assert [t.number for t in my_tickets(session, "conversation-a")] == [first]
        assert [t.number for t in my_tickets(session, "conversation-b")] == [second]


def test_a_conversation_sees_the_tickets_it_opened_and_those_it_verified(settings, clock):
    with session_scope() as session:
        opened = make_ticket(session, clock, phone="13812345678", sender_id="me").number
        clock.advance(minutes=1)
        other = make_ticket(session, clock, phone="13900001111", sender_id="someone-else").number
        assert visible_ticket_numbers(session, "me") == {opened}
        lookup_ticket(session, "me", other, "1111", now=clock)
        assert visible_ticket_numbers(session, "me") == {opened, other}
        assert [t.number for t in my_tickets(session, "me")] == [other, opened]  # newest first
        assert visible_ticket_numbers(session, "someone-else") == {other}


def test_a_verified_customer_sees_their_tickets_from_every_device_and_nobody_else_does(settings, clock):
    wang = make_customer("u-1001", phone="13812345678")
    with session_scope() as session:
        make_conversation(session, "wang-phone", customer=wang)
        make_conversation(session, "wang-laptop", customer=wang)
        make_conversation(session, "anonymous-same-phone")
        from_phone = make_ticket(session, clock, phone="13812345678", sender_id="wang-phone").number
        clock.advance(minutes=1)
        from_laptop = make_ticket(session, clock, phone="13812345678", sender_id="wang-laptop").number
        stranger = make_ticket(session, clock, phone="13812345678", sender_id="anonymous-same-phone").number
        assert visible_ticket_numbers(session, "wang-laptop") == {from_phone, from_laptop}
        assert [t.number for t in my_tickets(session, "wang-phone")] == [from_laptop, from_phone]
        assert visible_ticket_numbers(session, "anonymous-same-phone") == {stranger}  # the phone proves nothing
        make_conversation(session, "someone-verified", customer=make_customer("u-2002", phone="13812345678"))
        assert visible_ticket_numbers(session, "someone-verified") == set()
