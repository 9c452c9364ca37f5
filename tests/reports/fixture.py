"""A small month of activity whose KPIs are computed by hand in tests/reports/test_kpis.py.

T0 = 2026-03-10 10:00 Asia/Shanghai (02:00 UTC). The report window is March 2026 (local days).
Every row is written with its own timestamps, as the services would have written them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from accounts.models import Account, Role
from conversations.models import Conversation, Owner
from grids.models import Agent, AgentStatusEvent, GridMembership
from handoff.models import Handoff, HandoffStatus, OwnershipEvent, Rating
from knowledge_base.models import Faq, FaqUsage, Miss
from tickets.models import Ticket, TicketEvent

T0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
S, M, H, D = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
WUHOU = {"region": "成都市武侯区", "tier": "general", "verified": True}


def _account(session: Session, username: str, grid: str, max_chats: int) -> int:
    account = Account(username=username, display_name=username, role=Role.AGENT.value)
    session.add(account)
    session.flush()
    session.add_all(
        [Agent(account_id=account.id, max_chats=max_chats), GridMembership(grid_code=grid, account_id=account.id)]
    )
    return account.id


def _conversation(
    session: Session, sender: str, at: datetime, profile: dict | None = None, channel: str = "rest"
) -> int:
    conversation = Conversation(sender_id=sender, channel=channel, profile=profile or {}, created_at=at, updated_at=at)
    session.add(conversation)
    session.flush()
    return conversation.id


def _handoff(
    session: Session,
    conversation: int,
    grid: str,
    reason: str,
    created: datetime,
    status: HandoffStatus,
    agent: int | None = None,
    accepted: timedelta | None = None,
    first_response: timedelta | None = None,
    ended: timedelta | None = None,
) -> int:
    handoff = Handoff(
        conversation_id=conversation,
        grid_code=grid,
        reason=reason,
        status=status.value,
        agent_id=agent,
        created_at=created,
        queued_at=created,
        accepted_at=created + accepted if accepted is not None else None,
        first_response_at=created + first_response if first_response is not None else None,
        ended_at=created + ended if ended is not None else None,
    )
    session.add(handoff)
    session.flush()
    events = [(Owner.BOT, Owner.QUEUED, created, None)]
    if accepted is not None:
        events.append((Owner.QUEUED, Owner.HUMAN, created + accepted, agent))
    for before, after, at, who in events:
        session.add(
            OwnershipEvent(
                conversation_id=conversation,
                handoff_id=handoff.id,
                from_owner=before.value,
                to_owner=after.value,
                grid_code=grid,
                agent_id=who,
                actor="system",
                created_at=at,
            )
        )
    return handoff.id


def _ticket(
    session: Session,
    number: str,
    grid: str,
    category: str,
    phone: str,
    created: datetime,
    resolve_due: datetime,
    moves: list[tuple[str, str, datetime]],
    overdue: list[tuple[str, datetime]] = (),  # type: ignore[assignment]
    sender: str | None = None,
) -> None:
    ticket = Ticket(
        number=number,
        category=category,
        description="测试",
        contact_phone=phone,
        contact_name="张三",
        region="成都市武侯区",
        grid_code=grid,
        priority="normal",
        state=moves[-1][1] if moves else "accepted",
        sender_id=sender,
        resolve_due_at=resolve_due,
        created_at=created,
        updated_at=created,
    )
    session.add(ticket)
    session.flush()
    timeline = [(created, TicketEvent(ticket_id=ticket.id, actor="customer", kind="created", to_state="accepted"))]
    timeline += [
        (at, TicketEvent(ticket_id=ticket.id, actor="account:1", kind="transition", from_state=a, to_state=b))
        for a, b, at in moves
    ]
    timeline += [
        (at, TicketEvent(ticket_id=ticket.id, actor="system", kind="overdue", from_state=s, to_state=s))
        for s, at in overdue
    ]
    for at, event in sorted(timeline, key=lambda pair: pair[0]):
        event.at = at
        session.add(event)
        session.flush()  # ids follow time, as they do when the service writes them


def build(session: Session) -> dict[str, int]:
    a = _account(session, "agent.a", "cd-wuhou", 2)
    b = _account(session, "agent.b", "cd-wuhou", 1)

    # conversations: 5 of cd-wuhou in March, 1 before, 2 anonymous (central) at the edges of the window
    _conversation(session, "c1", T0, WUHOU)
    c2 = _conversation(session, "c2", T0 + 5 * M, WUHOU, "wecom")
    _conversation(session, "c3", T0 + D, WUHOU)
    c4 = _conversation(session, "c4", T0 + D + H, WUHOU)
    _conversation(session, "c5", T0 + 3 * D)  # anonymous → central, bot-resolved
    _conversation(session, "c6", T0 - 18 * D, WUHOU)  # February
    c7 = _conversation(session, "c7", datetime(2026, 3, 12, 16, 30, tzinfo=UTC), WUHOU, "telegram")  # local 03-13
    _conversation(session, "c8", datetime(2026, 3, 31, 16, 30, tzinfo=UTC))  # local April 1st: outside
    _conversation(session, "c9", datetime(2026, 2, 28, 16, 30, tzinfo=UTC))  # local March 1st: inside

    closed, abandoned, returned = HandoffStatus.CLOSED, HandoffStatus.ABANDONED, HandoffStatus.RETURNED
    h1 = _handoff(session, c2, "cd-wuhou", "customer_request", T0 + 6 * M, closed, a, 30 * S, 50 * S, 650 * S)
    h2 = _handoff(session, c7, "cd-wuhou", "complaint", T0 + 3 * D, closed, b, 90 * S, 100 * S, 400 * S)
    _handoff(session, c7, "cd-wuhou", "customer_request", T0 + 4 * D, abandoned, None, None, None, 300 * S)
    h4 = _handoff(session, c4, "billing", "low_confidence", T0 + 5 * D, returned, b, 10 * S, 20 * S, 220 * S)
    session.add_all(
        [
            Rating(handoff_id=h1, score=5, created_at=T0 + 20 * M),
            Rating(handoff_id=h2, score=3, created_at=T0 + 3 * D + 10 * M),
            Rating(handoff_id=h4, score=4, created_at=T0 + 5 * D + 10 * M),
        ]
    )

    # the knowledge base: c3 said 没帮助; usage of one FAQ
    faq = Faq(external_id="f1", question="怎么开发票", answer="在订单页申请。")
    session.add(faq)
    session.flush()
    session.add_all(
        [
            Miss(
                text="发票", normalized="发票", decision="answer", kind="unhelpful", sender_id="c3", created_at=T0 + D
            ),
            Miss(text="a", normalized="a", decision="fallback", kind="miss", created_at=T0),
            Miss(text="b", normalized="b", decision="fallback", kind="miss", created_at=T0 + D),
            Miss(text="c", normalized="c", decision="suggest", kind="low_confidence", created_at=T0 + D),
            Miss(text="d", normalized="d", decision="fallback", kind="miss", created_at=T0 - 30 * D),
            FaqUsage(faq_id=faq.id, day=date(2026, 3, 10), kind="answered", count=10),
            FaqUsage(faq_id=faq.id, day=date(2026, 3, 10), kind="chosen", count=2),
            FaqUsage(faq_id=faq.id, day=date(2026, 3, 10), kind="unhelpful", count=3),
            FaqUsage(faq_id=faq.id, day=date(2026, 2, 28), kind="answered", count=5),
        ]
    )

    # tickets (cd-wuhou unless said otherwise)
    acc, ana, inp, res, clo = "accepted", "analysing", "in_progress", "resolved", "closed"
    _ticket(session, "T1", "cd-wuhou", "complaint", "13800000001", T0, T0 + 24 * H,
            [(acc, ana, T0 + 20 * M), (ana, inp, T0 + 2 * H), (inp, res, T0 + 5 * H)], sender="c4")  # fmt: skip
    t2 = T0 + D
    _ticket(session, "T2", "cd-wuhou", "fault", "13800000002", t2, t2 + H,
            [(acc, ana, t2 + 50 * M), (ana, inp, t2 + 3 * H), (inp, res, T0 + 2 * D), (res, inp, T0 + 3 * D),
             (inp, res, T0 + 4 * D), (res, clo, T0 + 5 * D)],
            overdue=[(acc, t2 + 40 * M), (inp, T0 + 3 * D + 12 * H)])  # fmt: skip
    _ticket(session, "T3", "cd-wuhou", "consultation", "13800000001", T0 + 9 * D, T0 + 11 * D, [],
            overdue=[(acc, T0 + 9 * D + H)])  # fmt: skip
    t5 = T0 + D
    _ticket(session, "T5", "cd-wuhou", "complaint", "13800000003", t5, t5 + 24 * H,
            [(acc, ana, t5 + 10 * M), (ana, inp, t5 + H), (inp, res, t5 + 2 * H)])  # fmt: skip
    _ticket(session, "T6", "cd-wuhou", "consultation", "13800000003", T0 + 3 * D, T0 + 5 * D, [])
    _ticket(session, "T7", "billing", "refund", "13800000004", T0, T0 + 2 * D, [(acc, ana, T0 + 10 * M)])
    t8 = T0 - 20 * D
    _ticket(session, "T8", "cd-wuhou", "fault", "13800000005", t8, t8 + 2 * D,
            [(acc, ana, t8 + 10 * M), (ana, inp, T0), (inp, res, T0 + H)], overdue=[(ana, t8 + 2 * D)])  # fmt: skip

    # agents' status: A online 1 h on T0, away 1 h the next day; B online across the window's start
    for account, status, at in [
        (b, "online", datetime(2026, 2, 28, 15, 0, tzinfo=UTC)),
        (b, "offline", datetime(2026, 2, 28, 17, 0, tzinfo=UTC)),
        (a, "online", T0 - H),
        (a, "offline", T0 + H),
        (a, "away", T0 + D),
        (a, "offline", T0 + D + H),
    ]:
        session.add(AgentStatusEvent(account_id=account, status=status, at=at))
    session.flush()
    return {"a": a, "b": b}
