"""The customer's rating of a closed handoff (CSAT), its bounds and its one-time token (no HTTP here).

The bounds are defined here once; the rating buttons and prompt (``handoff.messages``) and the rating
route's OpenAPI schema use them. The function flushes; the caller commits.

Closing a handoff issues a random single-use **rating token** (``new_rating_token``; only its hash is kept on
the handoff). The close notice's buttons carry it (``rating_payload``: ``/griddesk_rate{"score": n, "token": …}``),
so the customer's own views (history, live socket, Socket.IO, Telegram, WeCom) have it; a rating without it is
refused (``InvalidRatingToken``). Staff never see it: every staff view of a message goes through
``conversations.transcript.for_staff``, which takes it out, and the customer's rating message is recorded
without it (``conversations.rating_tokens``). So an agent, who reads the transcript, cannot rate their own
service.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from conversations.models import Conversation
from conversations.rating_tokens import RATE_COMMAND
from handoff.models import Handoff, HandoffStatus, Rating
from handoff.ownership import HandoffNotFound, OwnershipError

MIN_SCORE = 1
MAX_SCORE = 5
MAX_COMMENT_CHARS = 500
TOKEN_BYTES = 16  # 128 random bits, 22 URL-safe base64 characters
MAX_TOKEN_CHARS = 64


class AlreadyRated(OwnershipError):
    code = "already_rated"


class InvalidRating(OwnershipError):
    code = "invalid_rating"


class InvalidComment(InvalidRating):
    code = "invalid_comment"


class InvalidRatingToken(OwnershipError):
    code = "invalid_rating_token"


# --- the one-time token --------------------------------------------------------------------------


def new_rating_token() -> tuple[str, str]:
    """A fresh random token and the hash to keep of it."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def rating_payload(score: int, token: str) -> str:
    """The payload of a rating button: ``/griddesk_rate{"score": n, "token": "…"}``."""
    return RATE_COMMAND + json.dumps({"score": score, "token": token}, ensure_ascii=False)


def _token_matches(token: object, expected_hash: str | None) -> bool:
    if expected_hash is None or not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
        return False
    return hmac.compare_digest(token_hash(token), expected_hash)


# --- rating --------------------------------------------------------------------------------------


def rate(
    session: Session,
    sender_id: str,
    handoff_id: int,
    score: object,
    comment: object,
    now: datetime,
    *,
    token: object,
) -> Rating:
    """The customer's rating (MIN_SCORE–MAX_SCORE, optional comment ≤ MAX_COMMENT_CHARS characters) of their
    closed handoff, with the token its close notice carried."""
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
    if not _token_matches(token, handoff.rating_token_hash):
        raise InvalidRatingToken("评价凭证无效：请使用本次服务结束时收到的评分按钮或评价卡片。")
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
