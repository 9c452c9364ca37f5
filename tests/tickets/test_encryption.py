"""Customer contact details at rest: encrypted in the database, found through keyed hashes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import select

from griddesk import crypto
from griddesk.db import session_scope
from tests.tickets.factories import make_ticket
from tickets.lookup import LookupStatus, lookup_ticket, my_tickets
from tickets.models import Ticket

PHONE, NAME = "13955551234", "欧阳娜娜"


def raw_bytes(data_dir: Path) -> bytes:
    """Everything SQLite keeps on disk for the database: the file and its write-ahead log."""
    return b"".join(path.read_bytes() for path in sorted(data_dir.glob("griddesk.db*")))


def test_the_database_file_holds_no_contact_phone_or_name_in_clear(settings):
    with session_scope() as session:
        ticket = make_ticket(session, phone=PHONE, sender_id="customer-1")
        ticket.contact_name = NAME
    with session_scope() as session:
        number = session.scalar(select(Ticket.number))
        assert lookup_ticket(session, "customer-2", number, "1234").status is LookupStatus.FOUND
    stored = raw_bytes(settings.data_dir)
    assert number.encode() in stored  # the file is readable: the ticket is there …
    for secret in (PHONE, NAME, PHONE[-8:]):
        assert secret.encode() not in stored  # … but not its contact details
    connection = sqlite3.connect(settings.data_dir / "griddesk.db")
    phone, name, phone_hash = connection.execute(
        "SELECT contact_phone, contact_name, contact_phone_hash FROM ticket"
    ).fetchone()
    connection.close()
    assert PHONE not in phone and NAME not in name
    assert phone_hash == crypto.keyed_hash("phone", PHONE)
    with session_scope() as session:
        ticket = session.scalar(select(Ticket))
        assert (ticket.contact_phone, ticket.contact_name) == (PHONE, NAME)  # models keep plain attributes


def test_the_same_phone_is_stored_differently_each_time_but_found_by_its_hash(settings):
    with session_scope() as session:
        first = make_ticket(session, phone=PHONE, sender_id="a").number
        second = make_ticket(session, phone=PHONE, sender_id="b").number
        make_ticket(session, phone="13800001111", sender_id="c")
    connection = sqlite3.connect(settings.data_dir / "griddesk.db")
    tokens = [row[0] for row in connection.execute("SELECT contact_phone FROM ticket ORDER BY id")]
    connection.close()
    assert len(set(tokens)) == 3
    with session_scope() as session:
        # «a» sees the ticket it opened (not «b»'s with the same phone); the digits are checked decrypted
        assert {t.number for t in my_tickets(session, "a")} == {first}
        assert lookup_ticket(session, "d", first, "1234").status is LookupStatus.FOUND  # by the last 4 digits
        assert lookup_ticket(session, "e", second, "1111").status is LookupStatus.DENIED
