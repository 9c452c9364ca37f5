"""Grid service: load the grid seed, route a request to its grid."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from grids.handoff_policy import HandoffPolicy
from grids.models import Grid
from grids.routing import GridScope, route
from grids.sla import SlaPolicy

SEED_FILE = Path(__file__).resolve().parent / "seed" / "grids.json"
FIELDS = ("name", "regions", "tiers", "categories", "manager", "overflow_code", "business_hours", "sla", "handoff")


class GridConfigError(ValueError):
    """The grid file is not valid (unknown overflow grid, bad SLA or handoff values, missing fields)."""


def load_grids(session: Session, path: Path = SEED_FILE) -> int:
    """Insert or update the grids of a JSON file; returns how many were written."""
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise GridConfigError(f"cannot read grid file {path}: {exc}") from None
    codes = {r.get("code") for r in records}
    for record in records:
        if not record.get("code") or not record.get("name"):
            raise GridConfigError(f"every grid needs a code and a name: {record!r}")
        if record.get("overflow_code") and record["overflow_code"] not in codes:
            raise GridConfigError(f"grid {record['code']}: unknown overflow grid {record['overflow_code']}")
        try:
            SlaPolicy.from_settings(record.get("sla"))
            HandoffPolicy.from_settings(record.get("handoff"))
        except ValueError as exc:
            raise GridConfigError(f"grid {record['code']}: {exc}") from None
    for record in records:
        grid = session.get(Grid, record["code"]) or Grid(code=record["code"])
        for name in FIELDS:
            if name in record:
                setattr(grid, name, record[name])
        session.add(grid)
    session.flush()
    return len(records)


def seed_grids(session: Session) -> int:
    """Load the seed grids when there are none yet (first start); later edits are kept."""
    if session.scalar(select(Grid.code).limit(1)) is not None:
        return 0
    return load_grids(session)


def route_request(session: Session, region: str | None, tier: str | None, category: str | None) -> Grid:
    grids = list(session.scalars(select(Grid)))
    scopes = [GridScope(g.code, tuple(g.regions), tuple(g.tiers), tuple(g.categories)) for g in grids]
    code = route(scopes, region, tier, category)
    return next(g for g in grids if g.code == code)
