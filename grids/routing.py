"""Routing ``(region, tier, category) → grid``: the most specific grid that serves the request.

A grid serves a request when each of its lists (regions, tiers, categories) is empty (any) or
matches. Specificity, compared in this order: how many of the three dimensions the grid constrains
(and matched); then the customer group (a key-account grid is a dedicated team); then the service
content (a billing grid beats a geographic one); then the region (district beats city). Ties go to
the grid code that sorts first, so routing is deterministic.
A grid's regions are written ``城市/区县`` (成都市/武侯区) or just ``城市``; the customer's region is free
text (成都武侯区, 武侯区, 成都) and matches when it names the district or the city.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from griddesk.errors import DomainError
from griddesk.text import to_simplified


class NoGrid(DomainError, LookupError):
    """No grid serves the request (the seed must contain a catch-all grid)."""

    code = "no_grid"


@dataclass(frozen=True)
class GridScope:
    code: str
    regions: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


def normalize_region(region: str | None) -> str:
    """Simplified characters, no spaces; ``成都市 / 武侯区`` → ``成都市/武侯区``."""
    text = to_simplified((region or "").strip()).replace(" ", "").replace("／", "/")
    return text.strip("/")


def _stem(name: str) -> str:
    """成都市 → 成都, 武侯区 → 武侯: customers often leave the administrative suffix out."""
    return name[:-1] if len(name) > 2 and name[-1] in "省市区县" else name


def _region_score(scopes: Sequence[str], text: str) -> int | None:
    """2 = the request names one of the grid's districts, 1 = one of its cities,
    0 = the grid takes any region, None = no match."""
    if not scopes:
        return 0
    best: int | None = None
    for scope in scopes:
        city, _, district = normalize_region(scope).partition("/")
        if district:
            if _stem(district) in text:
                return 2
        elif city and _stem(city) in text:
            best = 1
    return best


def route(grids: Sequence[GridScope], region: str | None, tier: str | None, category: str | None) -> str:
    """The code of the most specific grid serving the request."""
    region = normalize_region(region)
    candidates: list[tuple[tuple[int, int, int, int], str]] = []
    for grid in grids:
        region_score = _region_score(grid.regions, region)
        if region_score is None:
            continue
        if grid.tiers and tier not in grid.tiers:
            continue
        if grid.categories and category not in grid.categories:
            continue
        by_tier, by_category, by_region = int(bool(grid.tiers)), int(bool(grid.categories)), int(region_score > 0)
        candidates.append(((by_tier + by_category + by_region, by_tier, by_category, region_score), grid.code))
    if not candidates:
        raise NoGrid("没有网格受理该地区、客户群体和类别的请求，请联系管理员配置兜底网格。")
    best = max(score for score, _ in candidates)
    return min(code for score, code in candidates if score == best)
