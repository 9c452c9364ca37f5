"""Customer contact details at rest: encrypted in the database, found through keyed hashes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text

from griddesk import crypto
from griddesk.db import get_engine, session_scope
from tests.tickets.factories import make_ticket
from tickets.lookup import LookupStatus, lookup_ticket, my_tickets
from tickets.models import Ticket

PHONE, NAME = "13955551234", "欧阳娜娜"


def raw_bytes(data_dir: Path) -> bytes:
    """Everything SQLite keeps on disk for the database: the file and its write-ahead log."""
    return b"".join(path.read_bytes() for path in sorted(data_dir.glob("griddesk.db*")))


def stored(*columns: str) -> list[tuple[str, ...]]:
    """What the database holds, read past the models (which decrypt)."""
    with get_engine().connect() as connection:
        return [tuple(row) for row in connection.execute(text(f"SELECT {', '.join(columns)} FROM ticket ORDER BY id"))]


def test_the_database_holds_no_contact_phone_or_name_in_clear(settings):
    with session_scope() as session:
        ticket = make_ticket(session, phone=PHONE, sender_id="customer-1")
        ticket.contact_name = NAME
    with session_scope() as session:
        number = session.scalar(select(Ticket.number))
        assert lookup_ticket(session, "customer-2", number, "1234").status is LookupStatus.FOUND
    [(phone, name, phone_hash)] = stored("contact_phone", "contact_name", "contact_phone_hash")
    assert PHONE not in phone and NAME not in name and PHONE[-8:] not in phone
    assert phone_hash == crypto.keyed_hash("phone", PHONE)
    with session_scope() as session:
        ticket = session.scalar(select(Ticket))
        assert (ticket.contact_phone, ticket.contact_name) == (PHONE, NAME)  # models keep plain attributes


@pytest.mark.sqlite
def test_the_sqlite_file_and_its_log_hold_no_contact_phone_or_name_in_clear(settings):
    with session_scope() as session:
        ticket = make_ticket(session, phone=PHONE, sender_id="customer-1")
        ticket.contact_name = NAME
        number = ticket.number
    on_disk = raw_bytes(settings.data_dir)
    assert number.encode() in on_disk  # the file is readable: the ticket is there …
    for secret in (PHONE, NAME, PHONE[-8:]):
        assert secret.encode() not in on_disk  # … but not its contact details


def test_the_same_phone_is_stored_differently_each_time_but_found_by_its_hash(settings):
    with session_scope() as session:
        first = make_ticket(session, phone=PHONE, sender_id="a").number
        second = make_ticket(session, phone=PHONE, sender_id="b").number
        make_ticket(session, phone="13800001111", sender_id="c")
    tokens = [phone for (phone,) in stored("contact_phone")]
    assert len(set(tokens)) == 3
    with session_scope() as session:
        # «a» sees the ticket it opened (not «b»'s with the same phone); the digits are checked decrypted
        assert {t.number for t in my_tickets(session, "a")} == {first}
        assert lookup_ticket(session, "d", first, "1234").status is LookupStatus.FOUND  # by the last 4 digits
        assert lookup_ticket(session, "e", second, "1111").status is LookupStatus.DENIED
