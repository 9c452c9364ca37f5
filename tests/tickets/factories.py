from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from tickets.models import Category, Ticket
from tickets.service import NewTicket, open_ticket


def make_ticket(
    session: Session,
    clock=None,
    category: Category = Category.FAULT,
    phone: str = "13812345678",
    region: str = "成都市武侯区",
    amount: str | None = None,
    tier: str = "general",
    sender_id: str | None = "customer-1",
) -> Ticket:
    new = NewTicket(
        category=category,
        description="宽带一直断网, 重启也没用",
        contact_phone=phone,
        contact_name="张三",
        region=region,
        amount_yuan=Decimal(amount) if amount else None,
        customer_tier=tier,
        sender_id=sender_id,
    )
    return open_ticket(session, new, now=clock) if clock else open_ticket(session, new)
