"""Factories for test data."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Account, AccountSession, Role
from conversations.models import Author, Conversation, MessageStatus
from conversations.transcript import append_messages, get_or_create_conversation
from customers.identity import VerifiedCustomer
from customers.models import Customer
from customers.service import identify
from grids.models import Agent, AgentStatus, GridMembership
from handoff.models import Handoff, HandoffReason
from handoff.packet import parse_packet
from handoff.queue import request_handoff
from knowledge_base.models import Faq, FaqStatus

_ids = itertools.count(1)
LOGGED_IN_UNTIL = datetime(2100, 1, 1, tzinfo=UTC)  # the login of an agent made online or away

DEMO_FAQS = [
    (
        "你们的服务时间是几点到几点",
        ["客服几点上班", "营业时间是什么时候", "晚上有人值班吗"],
        "人工在线客服每天 8:00-22:00 为您服务。",
        "服务时间与渠道",
    ),
    (
        "怎么开发票",
        ["如何开具发票", "发票在哪里申请", "我要开票"],
        "请在微信公众号「我的账单」中申请电子发票。",
        "发票",
    ),
    (
        "客服电话是多少",
        ["热线电话多少", "你们的电话号码", "怎么打电话给客服"],
        "客服热线 400-800-1234。",
        "服务时间与渠道",
    ),
    ("怎么修改密码", ["密码怎么改", "更改登录密码", "重设密码"], "登录后在「账户安全」中修改密码。", "账户与密码"),
    ("宽带断网了怎么办", ["网络连不上", "上不了网", "网断了"], "请先重启光猫和路由器,仍无法上网请报修。", "故障报修"),
]


def make_faq(
    session: Session,
    question: str = "怎么开发票",
    similar: list[str] | None = None,
    answer: str = "请在公众号申请。",
    category: str = "发票",
    grid: str | None = None,
    status: FaqStatus = FaqStatus.PUBLISHED,
    overrides_id: int | None = None,
    external_id: str | None = None,
) -> Faq:
    faq = Faq(
        external_id=external_id or f"test-{next(_ids)}",
        question=question,
        similar_questions=similar or [],
        answer=answer,
        category=category,
        grid=grid,
        status=status,
        overrides_id=overrides_id,
    )
    session.add(faq)
    session.flush()
    return faq


def make_demo_faqs(session: Session) -> list[Faq]:
    return [make_faq(session, q, s, a, c) for q, s, a, c in DEMO_FAQS]


def make_account(
    session: Session,
    username: str = "agent1",
    role: Role | str = Role.AGENT,
    grids: Sequence[str] = ("cd-wuhou",),
    skills: Sequence[str] = (),
    max_chats: int = 3,
    status: AgentStatus | str = AgentStatus.ONLINE,
    display_name: str | None = None,
) -> Account:
    """A staff account that serves chats: the account, its agent row and its grid memberships."""
    account = Account(username=username, display_name=display_name or f"客服{username}", role=Role(role).value)
    session.add(account)
    session.flush()
    session.add(
        Agent(account_id=account.id, skills=list(skills), max_chats=max_chats, status=AgentStatus(status).value)
    )
    session.add_all(GridMembership(grid_code=code, account_id=account.id) for code in grids)
    if AgentStatus(status) is not AgentStatus.OFFLINE:  # an agent shown online or away is logged in
        session.add(
            AccountSession(
                token_hash=secrets.token_hex(32),
                account_id=account.id,
                csrf_token=secrets.token_urlsafe(16),
                expires_at=LOGGED_IN_UNTIL,
            )
        )
    session.flush()
    return account


def make_customer(external_id: str = "u-1001", **attributes: str) -> VerifiedCustomer:
    """A customer the site vouched for (name, phone, region, tier as keywords); link it with
    ``make_conversation(…, customer=…)``."""
    return VerifiedCustomer(external_id=external_id, **attributes)


def customer_of(session: Session, external_id: str = "u-1001") -> Customer:
    return session.scalars(select(Customer).where(Customer.external_id == external_id)).one()


def make_conversation(
    session: Session,
    sender_id: str = "customer-1",
    texts: Sequence[str] = ("转人工",),
    profile: dict[str, object] | None = None,
    channel: str = "rest",
    customer: VerifiedCustomer | None = None,
) -> Conversation:
    """A conversation the bot owns, with the customer's messages ``texts``; ``customer`` links it to that
    verified customer (as the inbox does), ``profile`` sets what is shown of it directly."""
    conversation = get_or_create_conversation(session, sender_id, channel)
    if customer is not None:
        identify(session, conversation, customer, datetime.now(UTC))
    if profile is not None:
        conversation.profile = profile
    append_messages(session, conversation.id, [(Author.CUSTOMER, text, None, MessageStatus.ANSWERED) for text in texts])
    session.flush()
    return conversation


def make_handoff(
    session: Session,
    sender_id: str = "customer-1",
    grid: str = "cd-wuhou",
    reason: HandoffReason | str = HandoffReason.CUSTOMER_REQUEST,
    skill: str | None = None,
    now: datetime | None = None,
    **packet: object,
) -> Handoff:
    """A queued handoff of ``sender_id``'s conversation (created when missing) in ``grid``."""
    conversation = session.scalar(select(Conversation).where(Conversation.sender_id == sender_id))
    if conversation is None:
        make_conversation(session, sender_id)
    raw = {"reason": str(reason), "grid": grid, **({"skill": skill} if skill else {}), **packet}
    enqueued = request_handoff(session, sender_id, parse_packet(raw), now or datetime.now(UTC))
    return session.get_one(Handoff, enqueued.handoff_id)
