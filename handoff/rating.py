"""The customer's rating of a closed handoff (CSAT), and its bounds (no HTTP here).

The bounds are defined here once; the rating buttons and prompt (``handoff.messages``) and the rating
route's OpenAPI schema use them. The function flushes; the caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from conversations.models import Conversation
from handoff.models import Handoff, HandoffStatus, Rating
from handoff.ownership import HandoffNotFound, OwnershipError

MIN_SCORE = 1
MAX_SCORE = 5
MAX_COMMENT_CHARS = 500


class AlreadyRated(OwnershipError):
    code = "already_rated"


class InvalidRating(OwnershipError):
    code = "invalid_rating"


class InvalidComment(InvalidRating):
    code = "invalid_comment"


def rate(session: Session, sender_id: str, handoff_id: int, score: object, comment: object, now: datetime) -> Rating:
    """The customer's rating (MIN_SCORE–MAX_SCORE, optional comment ≤ MAX_COMMENT_CHARS characters) of their
    closed handoff."""
    if isinstance(score, bool) or not isinstance(score, int) or not MIN_SCORE <= score <= MAX_SCORE:
        raise InvalidRating(f"评分必须是 {MIN_SCORE} 到 {MAX_SCORE} 的整数")
    if comment is None:
        comment = ""
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT_CHARS:
        raise InvalidComment(f"评价内容不能超过 {MAX_COMMENT_CHARS} 个字符。")
    handoff = session.scalar(
        select(Handoff)
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(
            Handoff.id == handoff_id, Conversation.sender_id == sender_id, Handoff.status == HandoffStatus.CLOSED.value
        )
    )
    if handoff is None:
        raise HandoffNotFound("没有可评价的会话")
    if session.scalar(select(Rating.id).where(Rating.handoff_id == handoff.id)) is not None:
        raise AlreadyRated("您已经评价过本次服务")
    rating = Rating(handoff_id=handoff.id, score=score, comment=comment.strip(), created_at=now)
    session.add(rating)
    try:
        session.flush()
    except IntegrityError:  # a concurrent rating of the same handoff; the caller rolls back
        raise AlreadyRated("您已经评价过本次服务") from None
    return rating


RATING_WINDOW_DAYS = 30  # the manager board's rating figures cover this many days


@dataclass(frozen=True)
class GridRatings:
    average: float | None  # None without ratings
    count: int


def grid_ratings(session: Session, grid_codes: Sequence[str] | None, since: datetime) -> dict[str, GridRatings]:
    """Each grid's customer ratings given since ``since`` (by the grid that handled the rated chat), in one
    query; ``grid_codes`` None = all grids. A grid without ratings is left out."""
    stmt = (
        select(Handoff.grid_code, func.avg(Rating.score), func.count(Rating.id))
        .join(Handoff, Handoff.id == Rating.handoff_id)
        .where(Rating.created_at >= since)
        .group_by(Handoff.grid_code)
    )
    if grid_codes is not None:
        stmt = stmt.where(Handoff.grid_code.in_(list(grid_codes)))
    return {
        code: GridRatings(round(float(average), 2) if average is not None else None, count)
        for code, average, count in session.execute(stmt)
    }
