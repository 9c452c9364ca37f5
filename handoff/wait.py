"""Where a waiting customer stands: the place in the grid's queue and the estimated wait (no HTTP here).

The place is 1-based among the grid's queued handoffs, by ``queued_at`` then id. The wait comes from
the grid's online agents' free slots and its recent handling times (``estimate_wait``).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from grids.handoff_policy import HandoffPolicy
from grids.models import AgentStatus, Grid
from handoff.dispatch import agent_loads
from handoff.models import Handoff, HandoffStatus

RECENT_HANDLING = 20


def estimate_wait(
    position: int,
    online_agents_free_capacity: Sequence[int],
    recent_handling_seconds: Sequence[float],
    policy: HandoffPolicy,
) -> int:
    """Seconds until the customer at ``position`` (1-based) should be answered.

    ``online_agents_free_capacity`` holds one entry per online agent of the grid: their free chat
    slots (0 when full). When there are at least ``position`` free slots, an agent should answer
    within the grid's first-response target. Otherwise the customers ahead of the free slots are
    served in waves, one chat per online agent (at least one, when nobody is online) per average
    handling time: the mean of ``recent_handling_seconds`` (the grid's last closed or returned
    chats), or ``policy.default_handling_seconds`` while the grid has no history.
    """
    free = sum(max(0, slots) for slots in online_agents_free_capacity)
    if free > 0 and position <= free:
        return policy.first_response_seconds
    handling = (
        sum(recent_handling_seconds) / len(recent_handling_seconds)
        if recent_handling_seconds
        else float(policy.default_handling_seconds)
    )
    waves = math.ceil((position - free) / max(1, len(online_agents_free_capacity)))
    return round(handling * waves)


def recent_handling_seconds(session: Session, grid_code: str) -> list[float]:
    """How long the grid's last chats took, accepted → ended (closed or handed back), newest first."""
    rows = session.execute(
        select(Handoff.accepted_at, Handoff.ended_at)
        .where(
            Handoff.grid_code == grid_code,
            Handoff.status.in_([HandoffStatus.CLOSED.value, HandoffStatus.RETURNED.value]),
            Handoff.accepted_at.is_not(None),
            Handoff.ended_at.is_not(None),
        )
        .order_by(Handoff.ended_at.desc())
        .limit(RECENT_HANDLING)
    ).all()
    return [
        max(0.0, (ended - accepted).total_seconds())
        for accepted, ended in rows
        if accepted is not None and ended is not None
    ]


def queue_position(session: Session, handoff: Handoff) -> int:
    """1-based place among the grid's queued handoffs, by queued_at then id."""
    ahead = session.scalar(
        select(func.count())
        .select_from(Handoff)
        .where(
            Handoff.status == HandoffStatus.QUEUED.value,
            Handoff.grid_code == handoff.grid_code,
            or_(
                Handoff.queued_at < handoff.queued_at,
                and_(Handoff.queued_at == handoff.queued_at, Handoff.id < handoff.id),
            ),
        )
    )
    return int(ahead or 0) + 1


def eta_seconds(session: Session, grid_code: str, position: int) -> int:
    return _GridCapacity.read(session, grid_code).eta(position)


def queue_moved_at(session: Session, handoff: Handoff, now: datetime) -> datetime:
    """When the customer's wait last changed: when they joined the queue, or later when a customer who
    was ahead left it (accepted, or gone) or one of the grid's chats ended (a slot came free)."""
    return _moved_at(handoff, _departures(session, handoff.grid_code, handoff.queued_at), now)


def _departures(
    session: Session, grid_code: str, since: datetime
) -> list[tuple[datetime, datetime | None, datetime | None, int]]:
    """(queued_at, accepted_at, ended_at, id) of the grid's handoffs that were accepted or ended after ``since``."""
    rows = session.execute(
        select(Handoff.queued_at, Handoff.accepted_at, Handoff.ended_at, Handoff.id).where(
            Handoff.grid_code == grid_code, or_(Handoff.accepted_at > since, Handoff.ended_at > since)
        )
    ).all()
    return [(queued, accepted, ended, handoff_id) for queued, accepted, ended, handoff_id in rows]


def _moved_at(
    handoff: Handoff, departures: Sequence[tuple[datetime, datetime | None, datetime | None, int]], now: datetime
) -> datetime:
    moments = [
        moment
        for queued, accepted, ended, handoff_id in departures
        if handoff_id != handoff.id and queued <= handoff.queued_at
        for moment in (accepted, ended)
        if moment is not None and handoff.queued_at < moment <= now
    ]
    return max([handoff.queued_at, *moments])


def remaining_wait(session: Session, handoff: Handoff, position: int, now: datetime) -> int:
    """The estimate for the customer's place (``eta_seconds``), less the time waited since the queue last
    moved: the wait shown counts down instead of repeating 「约 1 分钟」 for as long as nobody answers
    (0 = any moment now)."""
    waited = max(0.0, (now - queue_moved_at(session, handoff, now)).total_seconds())
    return max(0, round(eta_seconds(session, handoff.grid_code, position) - waited))


@dataclass(frozen=True)
class _GridCapacity:
    """What a grid's wait estimate needs: its online agents' free slots, recent handling times, policy."""

    free: list[int]
    recent: list[float]
    policy: HandoffPolicy

    @classmethod
    def read(cls, session: Session, grid_code: str) -> _GridCapacity:
        grid = session.get_one(Grid, grid_code)
        free = [
            max(0, load.max_chats - load.active_chats)
            for load in agent_loads(session, [grid_code])
            if load.status == AgentStatus.ONLINE
        ]
        return cls(free, recent_handling_seconds(session, grid_code), grid.handoff_policy())

    def eta(self, position: int) -> int:
        return estimate_wait(position, self.free, self.recent, self.policy)


class GridWaits:
    """Places and waits of many waiting customers in one session, each grid's queue and capacity read
    once (the same answers as ``queue_position`` and ``eta_seconds``)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._queued: dict[str, list[tuple[datetime, int]]] = {}
        self._capacity: dict[str, _GridCapacity] = {}
        self._departures: dict[str, list[tuple[datetime, datetime | None, datetime | None, int]]] = {}

    def position(self, handoff: Handoff) -> int:
        if handoff.grid_code not in self._queued:
            rows = self._session.execute(
                select(Handoff.queued_at, Handoff.id).where(
                    Handoff.status == HandoffStatus.QUEUED.value, Handoff.grid_code == handoff.grid_code
                )
            )
            self._queued[handoff.grid_code] = sorted((queued_at, handoff_id) for queued_at, handoff_id in rows)
        # the number of queued handoffs before this one, as queue_position counts them
        return bisect_left(self._queued[handoff.grid_code], (handoff.queued_at, handoff.id)) + 1

    def remaining(self, handoff: Handoff, position: int, now: datetime) -> int:
        """``remaining_wait``, with the grid's departures read once for all its waiting customers."""
        if handoff.grid_code not in self._departures:
            since = min(queued_at for queued_at, _ in self._queued.get(handoff.grid_code) or [(handoff.queued_at, 0)])
            self._departures[handoff.grid_code] = _departures(self._session, handoff.grid_code, since)
        moved = _moved_at(handoff, self._departures[handoff.grid_code], now)
        waited = max(0.0, (now - moved).total_seconds())
        return max(0, round(self.eta(handoff.grid_code, position) - waited))

    def eta(self, grid_code: str, position: int) -> int:
        if grid_code not in self._capacity:
            self._capacity[grid_code] = _GridCapacity.read(self._session, grid_code)
        return self._capacity[grid_code].eta(position)
