"""Seeding the documents' targets and the record of changes (the API's side is in test_web.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from griddesk.db import session_scope
from grids.models import Grid
from reports.models import ReportTarget, ReportTargetEvent
from reports.targets import grid_targets, seed_targets, set_targets

NOW = datetime(2026, 4, 1, tzinfo=UTC)


def test_seeding_stores_each_grids_defaults_once(settings):
    with session_scope() as session:
        grids = session.scalar(select(func.count()).select_from(Grid))
        assert seed_targets(session) == grids == 7
        assert seed_targets(session) == 0
        key = session.get_one(Grid, "key-accounts")
        assert grid_targets(session, key)["first_response_p90_seconds"] == 30.0  # its own 30 s service level
        assert grid_targets(session, key)["ticket_response_p90_seconds"] == 900.0  # response_minutes 15
        assert grid_targets(session, session.get_one(Grid, "central"))["csat_satisfied_share"] == 0.9


def test_a_change_keeps_the_other_targets_and_records_old_and_new(settings):
    with session_scope() as session:
        seed_targets(session)
        set_targets(session, "central", {"csat_satisfied_share": 0.95}, "account:1", NOW)
        targets = grid_targets(session, session.get_one(Grid, "central"))
        assert targets["csat_satisfied_share"] == 0.95 and targets["first_response_p90_seconds"] == 60.0
        event = session.scalars(select(ReportTargetEvent)).one()
        assert (event.kpi, event.old_value, event.new_value, event.actor) == (
            "csat_satisfied_share",
            0.9,
            0.95,
            "account:1",
        )
        assert session.get_one(ReportTarget, ("central", "csat_satisfied_share")).updated_by == "account:1"
