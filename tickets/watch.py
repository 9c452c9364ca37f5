"""The overdue watch: marks tickets past their step deadline and alerts the grid manager.

``check_overdue(session, now)`` is a pure function of the database and the clock it is given, so
tests drive it with a controllable clock; the gateway runs it periodically.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from griddesk.db import rows_changed
from grids.models import Grid
from tickets.labels import STATE_LABELS
from tickets.models import Alert, Ticket, TicketEvent, TicketState
from tickets.service import OPEN_STATES


@dataclass(frozen=True)
class WatchReport:
    marked_overdue: int
    alerts: int


def check_overdue(session: Session, now: datetime) -> WatchReport:
    marked = 0
    alerts = 0
    late = session.scalars(
        select(Ticket).where(Ticket.state.in_(OPEN_STATES), Ticket.step_due_at.is_not(None), Ticket.step_due_at < now)
    ).all()
    policies = {grid.code: grid.policy() for grid in session.scalars(select(Grid))}
    for ticket in late:
        if not ticket.overdue:
            # Guarded by version like any change, so a concurrent transition is never overwritten.
            changed = rows_changed(
                session.execute(
                    update(Ticket)
                    .where(Ticket.id == ticket.id, Ticket.version == ticket.version)
                    .values(
                        overdue=True,
                        version=Ticket.version + 1,
                        first_overdue_at=ticket.first_overdue_at or now,  # reports (the version guards it)
                    )
                    .execution_options(synchronize_session=False)
                )
            )
            if changed != 1:
                continue
            session.add(
                TicketEvent(
                    ticket_id=ticket.id,
                    actor="system",
                    kind="overdue",
                    from_state=ticket.state,
                    to_state=ticket.state,
                    at=now,
                    note=f"超过{STATE_LABELS[TicketState(ticket.state)]}环节的期限",
                )
            )
            marked += 1
        warning = timedelta(minutes=policies[ticket.grid_code].overdue_warning_minutes)
        assert ticket.step_due_at is not None
        if ticket.step_due_at + warning <= now:
            already = session.scalar(
                select(Alert.id).where(
                    Alert.ticket_id == ticket.id, Alert.kind == "overdue", Alert.step == ticket.state
                )
            )
            if already is None:
                overdue_minutes = int((now - ticket.step_due_at).total_seconds() // 60)
                session.add(
                    Alert(
                        grid_code=ticket.grid_code,
                        ticket_id=ticket.id,
                        kind="overdue",
                        step=ticket.state,
                        created_at=now,
                        message=(
                            f"工单 {ticket.number} 在「{STATE_LABELS[TicketState(ticket.state)]}」环节已超时 "
                            f"{overdue_minutes} 分钟，请网格经理跟进"
                        ),
                    )
                )
                alerts += 1
    session.flush()
    return WatchReport(marked, alerts)
