"""Customer lookups of tickets in chat, and what a conversation may see of tickets.

A customer proves a ticket is theirs with the last 4 digits of its contact phone. Guessing is limited
three ways, and the answer never says which limit applies, nor whether the ticket exists:

- per conversation: 5 failures for one ticket (or 10 in all) lock that conversation's lookups for 15 minutes;
- per ticket number, across all conversations: 10 failures within 24 hours lock that number's lookups for
  12 hours and alert the manager of the ticket's grid (a new conversation per guess gains nothing);
- per client (the gateway's keyed hash of the network address, ``griddesk.clients``): 20 failures within
  24 hours, whatever the conversations and tickets, lock that client's lookups for 12 hours, and the ticket
  it was guessing at that moment as above.

A conversation sees without being asked again only the tickets it opened and those it verified one by one
(``visible_ticket_numbers``): one ticket's digits open that ticket, not every ticket with the same phone.
A conversation of a verified customer also sees every ticket of that customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from conversations.models import Conversation
from griddesk.db import utcnow
from tickets.models import Alert, LookupFailure, LookupGuard, LookupLock, Ticket, TicketAccess
from tickets.numbers import normalize_number
from tickets.service import Clock

# per conversation
MAX_FAILURES = 5
MAX_FAILURES_PER_CONVERSATION = 10  # across all numbers: stops guessing many numbers in a row
LOCK = timedelta(minutes=15)
# across conversations
FAILURE_WINDOW = timedelta(hours=24)
MAX_FAILURES_PER_TICKET = 10
MAX_FAILURES_PER_CLIENT = 20
SHARED_LOCK = timedelta(hours=12)
LOCKED_ALERT = "lookup_locked"


class LookupStatus(StrEnum):
    FOUND = "found"
    DENIED = "denied"  # wrong digits or no such ticket: the customer is told nothing more
    LOCKED = "locked"  # for logs and tests only: the customer is told exactly what DENIED tells


@dataclass(frozen=True)
class LookupResult:
    status: LookupStatus
    ticket: Ticket | None = None
    locked_until: datetime | None = None


class Scope(StrEnum):
    TICKET = "ticket"
    CLIENT = "client"


# --- per conversation ----------------------------------------------------------------------------


def _guard(session: Session, sender_id: str, target: str) -> LookupGuard:
    guard = session.scalar(select(LookupGuard).where(LookupGuard.sender_id == sender_id, LookupGuard.target == target))
    if guard is None:
        guard = LookupGuard(sender_id=sender_id, target=target, failures=0)
        session.add(guard)
        session.flush()
    return guard


def _guard_locked(guard: LookupGuard, moment: datetime) -> bool:
    until = guard.locked_until
    return until is not None and until > moment


def _fail(guard: LookupGuard, limit: int, moment: datetime) -> None:
    if guard.locked_until is not None and not _guard_locked(guard, moment):
        guard.failures = 0  # an expired lock starts a fresh count
        guard.locked_until = None
    guard.failures += 1
    if guard.failures >= limit:
        guard.locked_until = moment + LOCK


# --- across conversations ------------------------------------------------------------------------


def _lock_until(session: Session, scope: Scope, key: str, moment: datetime) -> datetime | None:
    until = session.scalar(select(LookupLock.locked_until).where(LookupLock.scope == scope, LookupLock.key == key))
    return until if until is not None and until > moment else None


def _lock(session: Session, scope: Scope, key: str, moment: datetime) -> bool:
    """Lock ``key``'s lookups for ``SHARED_LOCK``; False when it was locked already."""
    lock = session.scalar(select(LookupLock).where(LookupLock.scope == scope, LookupLock.key == key))
    if lock is not None and lock.locked_until > moment:
        return False
    if lock is None:
        try:
            with session.begin_nested():
                session.add(LookupLock(scope=scope, key=key, locked_at=moment, locked_until=moment + SHARED_LOCK))
            return True
        except IntegrityError:  # another lookup locked it at the same moment
            return False
    lock.locked_at, lock.locked_until = moment, moment + SHARED_LOCK
    return True


def _failures_since(session: Session, whose: ColumnElement[bool], since: datetime) -> int:
    return session.scalar(select(func.count()).select_from(LookupFailure).where(whose, LookupFailure.at > since)) or 0


def _alert(session: Session, ticket: Ticket, message: str, moment: datetime) -> None:
    """Tell the ticket's grid manager, once while the previous alert about it is not acknowledged."""
    open_alert = session.scalar(
        select(Alert.id).where(
            Alert.ticket_id == ticket.id, Alert.kind == LOCKED_ALERT, Alert.acknowledged_at.is_(None)
        )
    )
    if open_alert is None:
        session.add(
            Alert(
                grid_code=ticket.grid_code, ticket_id=ticket.id, kind=LOCKED_ALERT, message=message, created_at=moment
            )
        )


def _record_failure(
    session: Session, ticket: Ticket | None, target: str, sender_id: str, client: str | None, moment: datetime
) -> bool:
    """Count one failure per ticket and per client; True when it locked the ticket or the client."""
    since = moment - FAILURE_WINDOW
    session.execute(delete(LookupFailure).where(LookupFailure.at <= since))  # only the window is ever read
    session.add(LookupFailure(target=target, sender_id=sender_id, client=client, at=moment))
    session.flush()
    hours = int(SHARED_LOCK.total_seconds() // 3600)
    locked = False
    for_ticket = _failures_since(session, LookupFailure.target == target, since)
    if for_ticket >= MAX_FAILURES_PER_TICKET:
        locked = True
        if _lock(session, Scope.TICKET, target, moment) and ticket is not None:
            _alert(
                session,
                ticket,
                f"工单 {ticket.number} 的聊天查询在24小时内核验失败{for_ticket}次，可能有人在猜测联系电话后4位。"
                f"该工单的聊天查询已暂停{hours}小时，请关注客户信息安全。",
                moment,
            )
    if client is not None:
        for_client = _failures_since(session, LookupFailure.client == client, since)
        if for_client >= MAX_FAILURES_PER_CLIENT:
            locked = True
            _lock(session, Scope.CLIENT, client, moment)
            if _lock(session, Scope.TICKET, target, moment) and ticket is not None:
                _alert(
                    session,
                    ticket,
                    f"同一网络地址在24小时内查询工单核验失败{for_client}次，最近一次针对工单 {ticket.number}。"
                    f"该地址和该工单的聊天查询已暂停{hours}小时，请关注客户信息安全。",
                    moment,
                )
    return locked


def lookup_ticket(
    session: Session, sender_id: str, number: str, last4: str, client: str | None = None, now: Clock = utcnow
) -> LookupResult:
    """A ticket for a customer who proves it is theirs with the last 4 digits of its contact phone.

    ``client`` is the gateway's identifier of the customer's network address (None when there is none).
    No such ticket, wrong digits and every lock look the same to the customer (see the module's rules).
    """
    moment = now()
    target = normalize_number(number) or number.strip().upper()[:64]
    guard = _guard(session, sender_id, target)
    overall = _guard(session, sender_id, "*")
    locks = [g.locked_until for g in (guard, overall) if _guard_locked(g, moment)]
    locks.append(_lock_until(session, Scope.TICKET, target, moment))
    if client is not None:
        locks.append(_lock_until(session, Scope.CLIENT, client, moment))
    active = [until for until in locks if until is not None]
    if active:
        return LookupResult(LookupStatus.LOCKED, locked_until=max(active))
    ticket = session.scalar(select(Ticket).where(Ticket.number == target))
    digits = "".join(ch for ch in last4 if ch.isdigit())
    if ticket is None or len(digits) != 4 or not ticket.contact_phone.endswith(digits):
        _fail(guard, MAX_FAILURES, moment)
        _fail(overall, MAX_FAILURES_PER_CONVERSATION, moment)
        shared = _record_failure(session, ticket, target, sender_id, client, moment)
        session.flush()
        until = [g.locked_until for g in (guard, overall) if g.locked_until is not None and g.locked_until > moment]
        if shared:
            until.append(moment + SHARED_LOCK)
        if until:
            return LookupResult(LookupStatus.LOCKED, locked_until=max(until))
        return LookupResult(LookupStatus.DENIED)
    guard.failures = 0
    guard.locked_until = None
    _grant(session, sender_id, ticket)
    session.flush()
    return LookupResult(LookupStatus.FOUND, ticket=ticket)


# --- what a conversation may see -----------------------------------------------------------------


def _grant(session: Session, sender_id: str, ticket: Ticket) -> None:
    exists = session.scalar(
        select(TicketAccess.id).where(TicketAccess.sender_id == sender_id, TicketAccess.ticket_id == ticket.id)
    )
    if exists is None:
        session.add(TicketAccess(sender_id=sender_id, ticket_id=ticket.id))


def visible_ticket_numbers(session: Session, sender_id: str) -> frozenset[str]:
    """The numbers of the tickets a conversation may see without proving anything more: those it opened
    (``ticket.sender_id``, also when an agent opened it from the chat), those it verified one by one, and,
    when the embedding site verified who the customer is (``conversation.customer_id``, customers/), every
    ticket of that customer, opened on any device or channel. The one rule every customer-facing listing
    goes through.
    """
    opened = select(Ticket.number).where(Ticket.sender_id == sender_id)
    verified = (
        select(Ticket.number)
        .join(TicketAccess, TicketAccess.ticket_id == Ticket.id)
        .where(TicketAccess.sender_id == sender_id)
    )
    customer = select(Conversation.customer_id).where(Conversation.sender_id == sender_id).scalar_subquery()
    customers = select(Ticket.number).where(Ticket.customer_id.is_not(None), Ticket.customer_id == customer)
    return frozenset(session.scalars(union(opened, verified, customers)))


def my_tickets(session: Session, sender_id: str, limit: int = 10) -> list[Ticket]:
    """The tickets this conversation may see (``visible_ticket_numbers``), newest first."""
    numbers = visible_ticket_numbers(session, sender_id)
    if not numbers:
        return []
    stmt = select(Ticket).where(Ticket.number.in_(numbers)).order_by(Ticket.created_at.desc(), Ticket.id.desc())
    return list(session.scalars(stmt.limit(limit)))


def visible_ticket(session: Session, sender_id: str, number: str) -> Ticket | None:
    """One ticket this conversation may see, or None (whether it does not exist or is someone else's)."""
    target = normalize_number(number)
    if target is None or target not in visible_ticket_numbers(session, sender_id):
        return None
    return session.scalar(select(Ticket).where(Ticket.number == target))
