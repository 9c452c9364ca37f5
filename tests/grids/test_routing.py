import json

import pytest

from grids.routing import GridScope, NoGrid, route
from grids.service import SEED_FILE

SEED = [
    GridScope(g["code"], tuple(g["regions"]), tuple(g["tiers"]), tuple(g["categories"]))
    for g in json.loads(SEED_FILE.read_text(encoding="utf-8"))
]


@pytest.mark.parametrize(
    "region, tier, category, expected",
    [
        ("成都市武侯区", "general", "fault", "cd-wuhou"),
        ("成都武侯区", "general", "fault", "cd-wuhou"),
        ("武侯区", "general", "complaint", "cd-wuhou"),
        ("成都市/武侯区", None, None, "cd-wuhou"),
        ("成都錦江區", "general", "fault", "cd-jinjiang"),  # Traditional characters
        ("成都青羊区", "general", "consultation", "cd-jinjiang"),
        ("成都市高新区", "general", "fault", "cd-city"),  # no district grid: the city grid
        ("成都", "general", "fault", "cd-city"),
        ("上海市浦东新区", "general", "fault", "sh-pudong"),
        ("上海徐汇区", "general", "fault", "central"),  # no Shanghai city grid: the catch-all
        ("成都市武侯区", "key", "fault", "key-accounts"),  # key accounts: the dedicated team first
        ("成都市武侯区", "general", "billing", "billing"),  # service content beats geography
        ("成都市武侯区", "general", "refund", "billing"),
        ("成都市武侯区", "key", "billing", "key-accounts"),
        ("", "general", "fault", "central"),
        ("火星", "prospect", "suggestion", "central"),
    ],
)
def test_seed_grids_route_each_request_to_the_most_specific_grid(region, tier, category, expected):
    assert route(SEED, region, tier, category) == expected


def test_ties_are_broken_by_grid_code_so_routing_is_deterministic():
    grids = [GridScope("b", ("成都市",)), GridScope("a", ("成都市",))]
    assert route(grids, "成都", None, None) == "a"


def test_without_a_catch_all_an_unserved_request_is_an_error():
    with pytest.raises(NoGrid):
        route([GridScope("cd", ("成都市",))], "上海", "general", "fault")
