"""How a grid's chat queue behaves: the handoff defaults (DOMAIN.md, DESIGN.md), overridable per grid."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class HandoffPolicy:
    # consecutive FAQ misses before the bot offers a human on its own
    miss_limit: int = 2
    # a customer waiting this long moves to the grid's overflow grid
    overflow_after_seconds: int = 180
    # a queued customer whose page has not been seen for this long has left the queue
    abandon_after_seconds: int = 300
    # online chat: first response within 1 minute (DOMAIN.md)
    first_response_seconds: int = 60
    # overdue warning to the manager: 15 minutes past the deadline (DOMAIN.md)
    overdue_minutes: int = 15
    # estimated handling time per chat before the grid has its own history
    default_handling_seconds: int = 300

    @classmethod
    def from_settings(cls, values: Mapping[str, object] | None) -> HandoffPolicy:
        """Defaults overridden by a grid's ``handoff`` settings; ValueError names a bad entry."""
        policy = cls()
        known = {f.name for f in fields(cls)}
        changes: dict[str, int] = {}
        for name, value in (values or {}).items():
            if name not in known:
                raise ValueError(f"unknown handoff setting {name!r}")
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"handoff setting {name} must be a positive whole number, got {value!r}")
            changes[name] = value
        return replace(policy, **changes)
