"""The agent scorecard (考评): the documents' weighting, service quality 40 %, efficiency 30 %, satisfaction 30 %.

Each sub-score is 0–100, from the KPIs of a ``group_by=agent`` report (docs/kpis.md, "Agent scorecard"):

- service quality (服务质量): the promise of the first human reply kept: 100 when the agent's
  ``first_response_p90_seconds`` is within the scope's target, else ``100 × target / p90``;
- efficiency (服务效率): handling time against the team's: 100 when the agent's ``handle_time_p50_seconds`` is
  at most the whole scope's, else ``100 × team / agent``;
- satisfaction (客户满意度): ``100 × csat_satisfied_share`` (share of 4–5 ratings).

The total is ``0.4 × quality + 0.3 × efficiency + 0.3 × satisfaction``, None when a sub-score has no data
(no handoffs with a reply, no finished chats, no ratings): an agent is not ranked on part of the card.
"""

from __future__ import annotations

from typing import Any

from reports.tally import NONE

WEIGHTS = {"quality": 0.4, "efficiency": 0.3, "satisfaction": 0.3}
LABELS = {"quality": "服务质量", "efficiency": "服务效率", "satisfaction": "客户满意度"}


def _kept(reference: float | None, value: float | None) -> float | None:
    """100 when ``value`` is at most ``reference``, else the share ``reference / value`` of 100."""
    if reference is None or value is None or reference <= 0:
        return None
    return 100.0 if value <= reference else round(100.0 * reference / value, 1)


def scores(kpis: dict[str, Any], target_p90: float | None, team_handle_p50: float | None) -> dict[str, Any]:
    satisfied = kpis.get("csat_satisfied_share")
    parts = {
        "quality": _kept(target_p90, kpis.get("first_response_p90_seconds")),
        "efficiency": _kept(team_handle_p50, kpis.get("handle_time_p50_seconds")),
        "satisfaction": None if satisfied is None else round(100.0 * satisfied, 1),
    }
    known = [value for value in parts.values() if value is not None]
    total = (
        round(sum(WEIGHTS[name] * value for name, value in parts.items() if value is not None), 1)
        if len(known) == len(parts)
        else None
    )
    return parts | {"total": total}


def scorecard(body: dict[str, Any]) -> dict[str, Any]:
    """The scorecard of a ``group_by=agent`` report body (``reports.service.report``), best total first."""
    totals = body["kpis"]
    target = totals["first_response_p90_seconds"]["target"]
    team = totals["handle_time_p50_seconds"]["value"]
    agents = []
    for group in body["groups"]:
        if group["key"] == NONE:
            continue
        figures = group["kpis"]
        agents.append(
            {
                "agent_id": int(group["key"]),
                "name": group["label"],
                "handoffs": figures.get("handoffs") or 0,
                "csat_count": figures.get("csat_count") or 0,
                "first_response_p90_seconds": figures.get("first_response_p90_seconds"),
                "handle_time_p50_seconds": figures.get("handle_time_p50_seconds"),
                "csat_satisfied_share": figures.get("csat_satisfied_share"),
            }
            | scores(figures, target, team)
        )
    agents.sort(key=lambda agent: (agent["total"] is None, -(agent["total"] or 0), agent["name"]))
    return {
        "weights": WEIGHTS,
        "labels": LABELS,
        "first_response_target_seconds": target,
        "team_handle_time_p50_seconds": team,
        "agents": agents,
    }
