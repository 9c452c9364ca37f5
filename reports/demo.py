"""A deterministic year of activity for the seeded grids: the demo dashboard and the reports benchmark.

``python -m reports demo-data [--seed N] [--scale F] [--end YYYY-MM-DD]`` fills the configured database with
conversations and their messages, handoffs with their ownership events, ratings, tickets with their audit
trails, agents' status changes and knowledge-base usage, for the 365 local days up to ``--end`` (default:
today). The same seed, scale and end give the same rows. Scale 1.0 is about 100 000 conversations,
1 million messages and 50 000 tickets. Rows are written with bulk INSERTs in batches.

Demo rows are recognisable: conversations' sender ids start with ``demo-``, tickets' descriptions with
``【演示】``, demo agents' usernames with ``demo.``. The generator refuses a database that already holds
conversations or tickets (demo or not) unless ``force`` is given.
"""

from __future__ import annotations

import random
import time as clock
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from accounts.models import Account, Role
from conversations.models import Conversation, Message
from griddesk.crypto import keyed_hash
from grids.models import Agent, AgentStatusEvent, Grid, GridMembership
from grids.service import seed_grids
from grids.sla import SERVICE_TZ
from handoff.models import Handoff, OwnershipEvent, Rating
from knowledge_base.models import Faq, FaqUsage, Miss
from reports.facts import rebuild
from reports.targets import seed_targets
from tickets.models import PHONE, Ticket, TicketEvent
from tickets.numbers import ALPHABET

DEMO_SENDER = "demo-"
DEMO_TICKET = "【演示】"
DAYS = 365
BATCH = 5000
CONVERSATIONS = 100_000  # at scale 1.0
TICKETS = 50_000
AGENTS_PER_GRID = 3

# where conversations come from: (region, tier) of the verified customer (anonymous: "", "") and its weight
ORIGINS: list[tuple[str, str, int]] = [
    ("", "", 30),
    ("成都市武侯区", "general", 14),
    ("成都市锦江区", "general", 12),
    ("成都市青羊区", "general", 4),
    ("成都市金牛区", "general", 8),
    ("上海市浦东新区", "general", 14),
    ("成都市武侯区", "key", 5),
    ("上海市浦东新区", "key", 5),
    ("北京市朝阳区", "general", 8),
]
ORIGIN_GRID = {
    ("", ""): "central",
    ("成都市武侯区", "general"): "cd-wuhou",
    ("成都市锦江区", "general"): "cd-jinjiang",
    ("成都市青羊区", "general"): "cd-jinjiang",
    ("成都市金牛区", "general"): "cd-city",
    ("上海市浦东新区", "general"): "sh-pudong",
    ("成都市武侯区", "key"): "key-accounts",
    ("上海市浦东新区", "key"): "key-accounts",
    ("北京市朝阳区", "general"): "central",
}
CHANNELS = [("rest", 60), ("socketio", 10), ("wecom", 20), ("telegram", 10)]
REASONS = [
    ("customer_request", 55),
    ("repeated_misses", 20),
    ("low_confidence", 10),
    ("complaint", 10),
    ("form_failures", 5),
]
CATEGORIES = [
    ("consultation", 25),
    ("fault", 25),
    ("complaint", 12),
    ("suggestion", 6),
    ("billing", 14),
    ("after_sales", 10),
    ("refund", 8),
]
HOURS = [0, 0, 0, 0, 0, 0, 0, 1, 3, 6, 8, 8, 6, 6, 8, 8, 7, 6, 5, 4, 4, 3, 2, 1]  # weight of each local hour
QUESTIONS = [
    "怎么开发票",
    "你们的服务时间是几点到几点",
    "宽带断了",
    "投诉多久能处理",
    "怎么修改密码",
    "退款什么时候到账",
]
# how each grid performs: (score weights 1–5, chance a handoff is abandoned, median first response seconds)
PERFORMANCE: dict[str, tuple[list[int], float, int]] = {
    "key-accounts": ([1, 1, 4, 30, 64], 0.03, 20),
    "cd-wuhou": ([2, 3, 8, 35, 52], 0.06, 40),
    "cd-jinjiang": ([3, 4, 10, 38, 45], 0.08, 55),
    "cd-city": ([4, 5, 12, 37, 42], 0.10, 70),
    "sh-pudong": ([2, 3, 9, 36, 50], 0.07, 45),
    "billing": ([3, 5, 12, 40, 40], 0.09, 60),
    "central": ([4, 6, 12, 38, 40], 0.12, 80),
}


class DemoRefused(RuntimeError):
    """The database holds conversations or tickets already."""


@dataclass
class Report:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, n: int) -> None:
        self.counts[table] = self.counts.get(table, 0) + n


def existing_activity(session: Session) -> tuple[int, int]:
    """(rows that are not demo data, demo rows) among conversations and tickets."""
    others = (session.scalar(select(func.count()).where(~Conversation.sender_id.startswith(DEMO_SENDER))) or 0) + (
        session.scalar(select(func.count()).where(~Ticket.description.startswith(DEMO_TICKET))) or 0
    )
    demo = (session.scalar(select(func.count()).where(Conversation.sender_id.startswith(DEMO_SENDER))) or 0) + (
        session.scalar(select(func.count()).where(Ticket.description.startswith(DEMO_TICKET))) or 0
    )
    return others, demo


# parents before children: a full buffer flushes every table in this order (foreign keys hold)
ORDER = ("conversation", "message", "handoff", "ownership_event", "rating", "kb_miss", "ticket", "ticket_event",
         "agent_status_event", "kb_usage")  # fmt: skip


class Writer:
    """Rows buffered per table and written with one executemany INSERT per batch."""

    def __init__(self, session: Session, report: Report, say: Callable[[str], None]) -> None:
        self.session = session
        self.report = report
        self.say = say
        self.buffers: dict[str, tuple[Any, list[dict[str, Any]]]] = {}

    def add(self, table: Any, row: dict[str, Any]) -> None:
        entry = self.buffers.setdefault(table.name, (table, []))
        entry[1].append(row)
        if len(entry[1]) >= BATCH:
            self.flush()

    def flush(self) -> None:
        for key in sorted(self.buffers, key=lambda name: ORDER.index(name) if name in ORDER else len(ORDER)):
            table, rows = self.buffers[key]
            if rows:
                self.session.execute(insert(table), rows)
                self.report.add(key, len(rows))
                rows.clear()


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([value for value, _ in weighted], [weight for _, weight in weighted])[0]


def _moment(rng: random.Random, day: date) -> datetime:
    hour = rng.choices(range(24), HOURS)[0]
    local = datetime.combine(day, day_time(hour, rng.randrange(60), rng.randrange(60)), SERVICE_TZ)
    return local.astimezone(UTC)


def _days(end: date) -> list[date]:
    return [end - timedelta(days=offset) for offset in range(DAYS - 1, -1, -1)]


def _day_weights(days: list[date]) -> list[float]:
    """Weekdays busier than weekends, and a slow growth over the year."""
    return [(1.0 if day.weekday() < 5 else 0.6) * (0.8 + 0.4 * n / len(days)) for n, day in enumerate(days)]


def _demo_agents(session: Session) -> dict[str, list[tuple[int, int]]]:
    """Each grid's demo agents (account id, max chats): created when missing, without a password (no login)."""
    agents: dict[str, list[tuple[int, int]]] = {}
    for grid in session.scalars(select(Grid).order_by(Grid.code)):
        for n in range(1, AGENTS_PER_GRID + 1):
            username = f"demo.{grid.code}.{n}"
            account = session.scalar(select(Account).where(Account.username == username))
            if account is None:
                account = Account(username=username, display_name=f"{grid.name[:8]}客服{n}", role=Role.AGENT.value)
                session.add(account)
                session.flush()
                session.add(Agent(account_id=account.id, max_chats=2 + n % 2, skills=[]))
                session.add(GridMembership(grid_code=grid.code, account_id=account.id))
            agents.setdefault(grid.code, []).append((account.id, 2 + n % 2))
    session.flush()
    return agents


def _ids(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.coalesce(func.max(model.id), 0))) or 0)


def _advance_sequences(session: Session, models: tuple[Any, ...]) -> None:
    """PostgreSQL: move each id sequence past the ids written explicitly, so the product's next row gets a free id.

    SQLite takes the next rowid from the table itself; a PostgreSQL sequence does not see explicit ids.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for model in models:
        table = model.__tablename__  # the product's own table names, not input
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                " HAVING max(id) IS NOT NULL"
            )
        )


def generate(
    session: Session,
    seed: int = 1,
    scale: float = 1.0,
    end: date | None = None,
    force: bool = False,
    say: Callable[[str], None] = print,
) -> Report:
    """Fill the database (see the module docstring); the caller commits."""
    others, demo = existing_activity(session)
    if (others or demo) and not force:
        kind = f"{others} 条非演示数据" if others else f"{demo} 条演示数据"
        raise DemoRefused(f"数据库里已有会话或工单（{kind}），不生成演示数据；确需追加请加 --force。")
    started = clock.monotonic()
    rng = random.Random(seed)
    end = end or datetime.now(SERVICE_TZ).date()
    seed_grids(session)
    seed_targets(session)
    agents = _demo_agents(session)
    report = Report()
    writer = Writer(session, report, say)
    days = _days(end)
    weights = _day_weights(days)
    n_conversations = max(1, round(CONVERSATIONS * scale))
    n_tickets = max(1, round(TICKETS * scale))
    say(f"生成演示数据：{days[0]} 至 {days[-1]}，约 {n_conversations} 个会话、{n_tickets} 张工单（种子 {seed}）")

    ids = {name: _ids(session, model) for name, model in [("c", Conversation), ("h", Handoff), ("t", Ticket)]}
    conversation_days = sorted(rng.choices(days, weights, k=n_conversations))
    senders: list[tuple[str, datetime, str, str]] = []  # (sender, created, home grid, channel)
    for n, day in enumerate(conversation_days, start=1):
        ids["c"] += 1
        created = _moment(rng, day)
        region, tier = rng.choices([(r, t) for r, t, _ in ORIGINS], [w for _, _, w in ORIGINS])[0]
        home = ORIGIN_GRID[(region, tier)]
        channel = _pick(rng, CHANNELS)
        sender = f"{DEMO_SENDER}{seed}-{ids['c']}"
        profile: dict[str, object] = {"region": region, "tier": tier, "verified": True} if region else {}
        _conversation_rows(writer, rng, ids["c"], sender, created, channel, profile)
        if rng.random() < 0.3:
            grid = "billing" if rng.random() < 0.12 else home
            ids["h"] += 1
            _handoff_rows(writer, rng, ids["h"], ids["c"], grid, created, agents.get(grid) or agents["central"])
        elif rng.random() < 0.06:
            writer.add(
                Miss.__table__,
                {"text": rng.choice(QUESTIONS), "normalized": "", "decision": "answer", "kind": "unhelpful",
                 "sender_id": sender, "created_at": created + timedelta(seconds=40)},
            )  # fmt: skip
        senders.append((sender, created, home, channel))
        if n % 20000 == 0:
            say(f"  会话 {n}/{n_conversations}（{clock.monotonic() - started:.0f} 秒）")
    writer.flush()

    phones = [f"139{rng.randrange(10**8):08d}" for _ in range(max(10, n_tickets * 3 // 5))]
    hashes = {phone: keyed_hash(PHONE, phone) for phone in phones}
    numbers: set[str] = set(session.scalars(select(Ticket.number)))
    ticket_days = sorted(rng.choices(days, weights, k=n_tickets))
    horizon = datetime.combine(end + timedelta(days=1), day_time(0), SERVICE_TZ).astimezone(UTC)
    for n, day in enumerate(ticket_days, start=1):
        ids["t"] += 1
        number = _number(rng, numbers)
        origin = rng.choice(senders) if senders and rng.random() < 0.4 else None
        category = _pick(rng, CATEGORIES)
        home = origin[2] if origin else rng.choice(list(PERFORMANCE))
        grid = "billing" if category in ("billing", "refund") else home
        phone = rng.choice(phones)
        _ticket_rows(
            writer, rng, ids["t"], number, category, grid, phone, hashes[phone], origin, _moment(rng, day), horizon
        )
        if n % 10000 == 0:
            say(f"  工单 {n}/{n_tickets}（{clock.monotonic() - started:.0f} 秒）")
    writer.flush()

    _status_rows(writer, rng, agents, days)
    _kb_rows(session, writer, rng, days, scale)
    writer.flush()
    session.flush()
    _advance_sequences(session, (Conversation, Handoff, Ticket))
    rebuild(session)  # the rows went in around the services: their report facts from the rows
    say(
        "完成：" + "，".join(f"{table} {count}" for table, count in sorted(report.counts.items()))
        + f"（{clock.monotonic() - started:.0f} 秒）"
    )  # fmt: skip
    return report


def _conversation_rows(
    writer: Writer,
    rng: random.Random,
    cid: int,
    sender: str,
    created: datetime,
    channel: str,
    profile: dict[str, object],
) -> None:
    count = rng.randint(4, 16)
    times = [created]
    for _ in range(count - 1):
        times.append(times[-1] + timedelta(seconds=rng.randint(3, 40)))
    writer.add(  # the conversation before its messages: a full buffer may flush between them
        Conversation.__table__,
        {
            "id": cid,
            "sender_id": sender,
            "channel": channel,
            "owner": "bot",
            "last_seq": count,
            "delivered_seq": count,
            "profile": profile,
            "created_at": created,
            "updated_at": times[-1],
        },
    )
    for seq, at in enumerate(times, start=1):
        customer = seq % 2 == 1
        writer.add(
            Message.__table__,
            {
                "conversation_id": cid,
                "seq": seq,
                "author": "customer" if customer else "bot",
                "text": rng.choice(QUESTIONS) if customer else "好的，这是您要的信息。",
                "payload": None,
                "status": "answered" if customer else "sent",
                "created_at": at,
            },
        )


def _handoff_rows(
    writer: Writer, rng: random.Random, hid: int, cid: int, grid: str, start: datetime, staff: list[tuple[int, int]]
) -> None:
    scores, abandon, median = PERFORMANCE[grid]
    created = start + timedelta(seconds=rng.randint(30, 300))
    reason = _pick(rng, REASONS)
    agent, _ = rng.choice(staff)
    events: list[tuple[str, str, datetime, int | None]] = [("bot", "queued", created, None)]
    row: dict[str, Any] = {
        "id": hid, "conversation_id": cid, "reason": reason, "grid_code": grid, "packet": {"reason": reason},
        "skill": None, "created_at": created, "queued_at": created, "agent_id": None, "offered_agent_id": None,
        "accepted_at": None, "first_response_at": None, "ended_at": None,
    }  # fmt: skip
    if rng.random() < abandon:
        row.update(status="abandoned", ended_at=created + timedelta(seconds=rng.randint(60, 600)))
        events.append(("queued", "bot", row["ended_at"], None))
    else:
        accepted = created + timedelta(seconds=int(rng.lognormvariate(3.2, 0.8)))
        first = accepted + timedelta(seconds=int(rng.expovariate(1 / max(1, median - 20))) + 3)
        ended = first + timedelta(seconds=int(rng.lognormvariate(5.6, 0.6)))
        status = "closed" if rng.random() < 0.85 else "returned"
        row.update(status=status, agent_id=agent, accepted_at=accepted, first_response_at=first, ended_at=ended)
        events += [
            ("queued", "human", accepted, agent),
            ("human", "closed" if status == "closed" else "bot", ended, agent),
        ]
    writer.add(Handoff.__table__, row)  # before its rating and events: a full buffer may flush between them
    if row["status"] == "closed" and rng.random() < 0.6:
        score = rng.choices([1, 2, 3, 4, 5], scores)[0]
        writer.add(
            Rating.__table__,
            {"handoff_id": hid, "score": score, "comment": "", "created_at": row["ended_at"] + timedelta(seconds=30)},
        )
    for before, after, at, who in events:
        writer.add(
            OwnershipEvent.__table__,
            {"conversation_id": cid, "handoff_id": hid, "from_owner": before, "to_owner": after, "grid_code": grid,
             "agent_id": who, "actor": "system", "note": "", "created_at": at},
        )  # fmt: skip


def _number(rng: random.Random, taken: set[str]) -> str:
    while True:
        number = "GD-" + "".join(rng.choice(ALPHABET) for _ in range(6))
        if number not in taken:
            taken.add(number)
            return number


def _ticket_rows(
    writer: Writer,
    rng: random.Random,
    tid: int,
    number: str,
    category: str,
    grid: str,
    phone: str,
    phone_hash: str,
    sender: tuple[str, datetime, str, str] | None,
    created: datetime,
    horizon: datetime,
) -> None:
    if sender is not None:
        created = max(created, sender[1] + timedelta(minutes=2))
    complaint = category == "complaint"
    response_due = created + timedelta(minutes=60 if complaint else 30)
    resolve_due = created + timedelta(hours=24 if complaint else 48)
    events: list[tuple[datetime, str, str | None, str | None]] = [(created, "created", None, "accepted")]
    state, at, late_bias = "accepted", created, {"central": 1.6, "cd-city": 1.3}.get(grid, 1.0)
    flow = [
        ("analysing", rng.lognormvariate(6.8, 0.9) * late_bias, response_due - created),
        ("in_progress", rng.lognormvariate(8.5, 0.9) * late_bias, timedelta(hours=24)),
        ("resolved", rng.lognormvariate(9.8, 0.8) * late_bias, resolve_due - created),
    ]
    stop = rng.random()
    steps = 3 if stop < 0.85 else (2 if stop < 0.93 else (1 if stop < 0.97 else 0))
    for to_state, seconds, allowed in flow[:steps]:
        entered = at
        at = at + timedelta(seconds=int(seconds))
        if at >= horizon:
            break
        if at - entered > allowed:  # the overdue watch noticed the step run late
            events.append((entered + allowed + timedelta(minutes=1), "overdue", state, state))
        events.append((at, "transition", state, to_state))
        state = to_state
    if state == "resolved":
        if rng.random() < 0.06:
            reopened = at + timedelta(hours=rng.randint(2, 120))
            solved = reopened + timedelta(hours=rng.randint(1, 48))
            if solved < horizon:
                events += [
                    (reopened, "transition", "resolved", "in_progress"),
                    (solved, "transition", "in_progress", "resolved"),
                ]
                at = solved
        closed = at + timedelta(hours=rng.randint(1, 72))
        if rng.random() < 0.8 and closed < horizon:
            events.append((closed, "transition", "resolved", "closed"))
            state = "closed"
    writer.add(
        Ticket.__table__,
        {
            "id": tid, "number": number, "category": category,
            "description": f"{DEMO_TICKET}{rng.choice(QUESTIONS)}", "contact_phone": phone,
            "contact_phone_hash": phone_hash, "contact_name": "演示客户", "region": "成都市武侯区", "amount_yuan": None,
            "customer_tier": "general", "grid_code": grid, "priority": "high" if complaint else "normal",
            "state": state, "sender_id": sender[0] if sender else None, "customer_id": None, "needs_approval": False,
            "approved_by": None, "step_due_at": None, "resolve_due_at": resolve_due,
            "overdue": any(kind == "overdue" for _, kind, _, _ in events) and state not in ("resolved", "closed"),
            "version": len(events), "created_at": created, "updated_at": events[-1][0],
        },
    )  # fmt: skip
    for at_, kind, before, after in sorted(events, key=lambda event: event[0]):
        writer.add(
            TicketEvent.__table__,
            {"ticket_id": tid, "at": at_, "actor": "demo" if kind != "overdue" else "system", "kind": kind,
             "from_state": before, "to_state": after, "note": ""},
        )  # fmt: skip


def _status_rows(
    writer: Writer, rng: random.Random, agents: dict[str, list[tuple[int, int]]], days: list[date]
) -> None:
    """Each demo agent works most days: online in the morning, away at lunch, offline in the evening."""
    for staff in agents.values():
        for account_id, _ in staff:
            for day in days:
                if rng.random() < 0.2:
                    continue
                start = rng.randint(8, 10)
                for hour, status in [(start, "online"), (12, "away"), (13, "online"), (start + 9, "offline")]:
                    local = datetime.combine(day, day_time(hour, rng.randrange(30)), SERVICE_TZ)
                    writer.add(
                        AgentStatusEvent.__table__,
                        {"account_id": account_id, "status": status, "at": local.astimezone(UTC)},
                    )


def _kb_rows(session: Session, writer: Writer, rng: random.Random, days: list[date], scale: float) -> None:
    """Daily usage of the published FAQs (when the knowledge base is loaded) and the day's misses."""
    faqs = list(session.scalars(select(Faq.id).order_by(Faq.id).limit(40)))
    # with --force on a database in use, the days real usage was already counted keep their counts
    counted = {tuple(row) for row in session.execute(select(FaqUsage.faq_id, FaqUsage.day, FaqUsage.kind))}
    for day in days:
        for faq_id in faqs:
            answered = rng.randint(0, max(1, round(6 * scale)))
            for kind, count in [("answered", answered), ("chosen", answered // 4), ("unhelpful", answered // 8)]:
                if count and (faq_id, day, kind) not in counted:
                    writer.add(FaqUsage.__table__, {"faq_id": faq_id, "day": day, "kind": kind, "count": count})
        for _ in range(rng.randint(0, max(1, round(40 * scale)))):
            kind = "miss" if rng.random() < 0.6 else "low_confidence"
            writer.add(
                Miss.__table__,
                {"text": rng.choice(QUESTIONS), "normalized": "", "decision": kind, "kind": kind,
                 "created_at": _moment(rng, day)},
            )  # fmt: skip
