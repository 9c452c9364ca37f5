from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from griddesk.db import session_scope
from grids.handoff_policy import HandoffPolicy
from grids.models import Grid
from grids.service import GridConfigError, load_grids


def test_the_seed_grids_carry_their_handoff_overrides_and_the_rest_take_the_defaults(settings):
    with session_scope() as session:
        grids = {grid.code: grid for grid in session.scalars(select(Grid))}
        assert grids["billing"].handoff_policy().overflow_after_seconds == 120
        assert grids["key-accounts"].handoff_policy().first_response_seconds == 30
        assert grids["cd-wuhou"].handoff_policy() == HandoffPolicy()


def test_loading_a_grid_file_updates_the_handoff_settings(settings, tmp_path):
    path = tmp_path / "grids.json"
    path.write_text(
        json.dumps([{"code": "cd-wuhou", "name": "成都武侯网格", "handoff": {"miss_limit": 3}}]), encoding="utf-8"
    )
    with session_scope() as session:
        load_grids(session, path)
        assert session.get_one(Grid, "cd-wuhou").handoff_policy().miss_limit == 3


@pytest.mark.parametrize(
    "handoff",
    [
        {"overflow_after_seconds": 0},
        {"overflow_after_seconds": "120"},
        {"first_response_seconds": True},
        {"no_such_setting": 5},
    ],
)
def test_a_grid_file_with_bad_handoff_settings_is_refused_and_nothing_is_written(settings, tmp_path, handoff):
    path = tmp_path / "grids.json"
    path.write_text(json.dumps([{"code": "billing", "name": "账务网格", "handoff": handoff}]), encoding="utf-8")
    with session_scope() as session:
        with pytest.raises(GridConfigError, match="billing"):
            load_grids(session, path)
        assert session.get_one(Grid, "billing").handoff == {"overflow_after_seconds": 120}
