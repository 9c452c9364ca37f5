"""How far guessing a ticket's last 4 phone digits gets in chat (issue 12, finding 1), on a scratch database.

Usage: .venv/app/bin/python benchmarks/lookup_guessing.py

The attacks, against the lookup service the action server calls (``tickets.lookup.lookup_ticket``):
- **rotating**: one ticket, the digits tried in order 0000, 0001, …, a new conversation (sender id) every
  4 guesses, so the per-conversation lock (5 failures) never fires; the ticket's phone ends in 0200.
- **one client, many tickets**: 3 guesses per ticket over 30 tickets, a new conversation per ticket, all from
  one client (the gateway's identifier of one network address).

For each it prints how many guesses were answered before the first lock, and whether the right digits
were ever accepted. A security figure, not a speed one; the lookup answers a lock exactly like wrong digits.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RIGHT = "0200"  # the last 4 digits of the attacked ticket's phone: the attack needed 201 guesses
ALL = 10_000


def scratch_database(data_dir: str) -> None:
    """A fresh migrated database with the seed grids in ``data_dir``."""
    os.environ["GRIDDESK_DATA_DIR"] = data_dir
    os.environ.pop("GRIDDESK_DATABASE_URL", None)
    os.environ.setdefault("GRIDDESK_DATA_KEY", Fernet.generate_key().decode())  # scratch data only
    from sqlalchemy.orm import Session

    from griddesk.db import make_engine
    from griddesk.settings import get_settings
    from grids.service import load_grids
    from ops.setup_db import migrate

    url = get_settings().database_url
    migrate(url)
    engine = make_engine(url)
    with Session(engine) as session:
        load_grids(session)
        session.commit()
    engine.dispose()


def open_ticket(phone: str) -> str:
    from griddesk.db import session_scope
    from tickets.models import Category
    from tickets.service import NewTicket, open_ticket

    new = NewTicket(Category.FAULT, "宽带一直断网", phone, "张三", "成都市武侯区", sender_id="owner")
    with session_scope() as session:
        return open_ticket(session, new).number


def guess(sender: str, number: str, digits: str, client: str | None) -> str:
    from griddesk.db import session_scope
    from tickets.lookup import lookup_ticket

    with session_scope() as session:
        return str(lookup_ticket(session, sender, number, digits, client=client).status)


def rotating() -> tuple[int | None, int | None]:
    """(guesses answered before the first lock, the guess that found the ticket), None = never."""
    number = open_ticket(f"1380013{RIGHT}")
    first_lock = found = None
    for n in range(ALL):
        status = guess(f"rotating-{n // 4}", number, f"{n:04d}", client=None)
        if status == "locked" and first_lock is None:
            first_lock = n
        if status == "found":
            found = n + 1
            break
        if first_lock is not None and n >= int(RIGHT):  # the right digits were tried, and refused
            break
    return first_lock, found


def one_client_many_tickets(tickets: int = 30, per_ticket: int = 3) -> int | None:
    """Guesses from one client, over many tickets, answered before the first lock (None = never)."""
    numbers = [open_ticket(f"1390000{n:04d}") for n in range(tickets)]
    made = 0
    for t, number in enumerate(numbers):
        for k in range(per_ticket):
            digits = f"{9999 - (t * per_ticket + k):04d}"  # never the right digits
            if guess(f"client-{t}", number, digits, client="one-client") == "locked":
                return made
            made += 1
    return None


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="griddesk-guessing-") as data_dir:
        scratch_database(data_dir)
        first_lock, found = rotating()
        locked = one_client_many_tickets()
    lock = "never locked" if first_lock is None else f"locked from guess {first_lock + 1}"
    print(f"rotating conversations, one ticket: {lock}; ", end="")
    print(f"right digits accepted at guess {found}" if found else f"the right digits (guess {int(RIGHT) + 1}) refused")
    lock = "never locked" if locked is None else f"locked from guess {locked + 1}"
    print(f"one client over 30 tickets (3 guesses each, 90 in all): {lock}")


if __name__ == "__main__":
    main()
