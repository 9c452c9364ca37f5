"""Canned replies: prepared answers agents insert with one click (global ones and their grids' own)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from grids.models import Grid
from handoff.models import CannedReply

SEED_FILE = Path(__file__).resolve().parent / "seed" / "canned_replies.json"


def canned_replies(session: Session, grid_codes: Sequence[str] | None) -> list[CannedReply]:
    """The global replies, then those of these grids (None = every grid's)."""
    query = select(CannedReply).order_by(CannedReply.grid_code.is_not(None), CannedReply.grid_code, CannedReply.id)
    if grid_codes is not None:
        query = query.where(or_(CannedReply.grid_code.is_(None), CannedReply.grid_code.in_(list(grid_codes))))
    return list(session.scalars(query))


def seed_canned_replies(session: Session, path: Path = SEED_FILE) -> int:
    """Load the shipped replies when there are none yet (first start); returns how many were added.
    A reply for a grid that does not exist (any more) is skipped."""
    if session.scalar(select(CannedReply.id).limit(1)) is not None:
        return 0
    grids = set(session.scalars(select(Grid.code)))
    records = [r for r in json.loads(path.read_text(encoding="utf-8")) if r.get("grid") in grids | {None}]
    session.add_all(CannedReply(grid_code=r.get("grid"), title=r["title"], text=r["text"]) for r in records)
    session.flush()
    return len(records)
