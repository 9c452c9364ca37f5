"""The customer record (no HTTP here): remembering a verified customer and linking their conversations.

:func:`identify` is what the gateway's inbox calls for every customer message: with a verified identity
it remembers the customer and links the conversation; without one, a conversation linked before keeps
its customer (the conversation's sender id is the credential of an open chat). Functions flush; the
caller commits.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from conversations.models import Conversation
from customers.identity import VerifiedCustomer
from customers.models import Customer

log = logging.getLogger(__name__)

ATTRIBUTES = ("name", "phone", "region", "tier")


def remember(session: Session, verified: VerifiedCustomer, now: datetime) -> Customer:
    """The record of ``verified`` (created on first sight, safe under concurrency), updated with what the
    site signed this time; attributes it left out keep their stored values."""
    customer = session.scalar(select(Customer).where(Customer.external_id == verified.external_id))
    if customer is None:
        try:
            with session.begin_nested():
                customer = Customer(external_id=verified.external_id, first_seen_at=now, last_seen_at=now)
                session.add(customer)
        except IntegrityError:  # the same customer on another device, at the same moment
            customer = session.scalars(select(Customer).where(Customer.external_id == verified.external_id)).one()
    for name in ATTRIBUTES:
        value = getattr(verified, name)
        if value is not None and getattr(customer, name) != value:
            setattr(customer, name, value)
    if customer.last_seen_at is None or now > customer.last_seen_at:
        customer.last_seen_at = now
    session.flush()
    return customer


def profile_of(customer: Customer) -> dict[str, object]:
    """What agents are shown of a verified customer (``conversation.profile``)."""
    shown: dict[str, object] = {name: value for name in ATTRIBUTES if (value := getattr(customer, name))}
    shown["verified"] = True
    return shown


def identify(
    session: Session, conversation: Conversation, verified: VerifiedCustomer | None, now: datetime
) -> Customer | None:
    """The verified customer behind this message of ``conversation``; None = anonymous.

    A new proof links the conversation to its customer and refreshes the profile agents see. A proof of
    another customer on a conversation already linked (a shared browser after a change of login) is not
    trusted for that conversation: the message is treated as anonymous and the link stays.
    """
    if verified is None:
        if conversation.customer_id is None:
            return None
        customer = session.get(Customer, conversation.customer_id)
        if customer is not None and now > customer.last_seen_at:
            customer.last_seen_at = now
        return customer
    customer = remember(session, verified, now)
    if conversation.customer_id not in (None, customer.id):
        log.warning(
            "conversation %s belongs to customer %s; a proof for customer %s was ignored",
            conversation.id,
            conversation.customer_id,
            customer.id,
        )
        return None
    conversation.customer_id = customer.id
    profile = profile_of(customer)
    if conversation.profile != profile:
        conversation.profile = profile
    return customer


def bot_facts(customer: Customer | None) -> dict[str, object]:
    """What the gateway tells Rasa about the customer (``metadata.griddesk_customer``): {} = anonymous."""
    if customer is None:
        return {}
    facts: dict[str, object] = {"id": customer.id, "external_id": customer.external_id}
    facts.update({name: value for name in ATTRIBUTES if (value := getattr(customer, name))})
    return facts
