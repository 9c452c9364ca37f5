"""The customer's rating of a closed handoff (CSAT): its bounds, defined once."""

from __future__ import annotations

MIN_SCORE = 1
MAX_SCORE = 5
MAX_COMMENT_CHARS = 500
