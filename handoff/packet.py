"""The handoff packet the action server sends with an escalation, validated (docs/handoff.md).

Only ``reason`` and ``grid`` are required. Types and sizes are checked strictly — a packet that
breaks them raises ``PacketError`` — and keys nobody knows are dropped. Whether the grid exists is the
queue's business, not the parser's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from handoff.models import HandoffReason

MAX_GRID_CHARS = 64
MAX_SKILL_CHARS = 64
MAX_INTENT_CHARS = 128
MAX_FAQ_CANDIDATES = 5
MAX_QUESTION_CHARS = 200
MAX_SLOTS = 30
MAX_KEY_CHARS = 64
MAX_SLOT_VALUE_CHARS = 500
MAX_DRAFT_KEYS = 20
MAX_DRAFT_VALUE_CHARS = 2000
MAX_TICKET_NUMBER_CHARS = 32
MAX_PROFILE_CHARS = 64
MAX_SUMMARY_CHARS = 500
PROFILE_KEYS = ("region", "tier", "name")

Scalar = str | int | float | bool | None


class PacketError(ValueError):
    """The packet is not valid; the message names the offending field."""


@dataclass(frozen=True)
class Intent:
    name: str
    confidence: float


@dataclass(frozen=True)
class FaqCandidate:
    faq_id: int
    question: str
    score: float


@dataclass(frozen=True)
class Packet:
    reason: HandoffReason
    grid: str
    skill: str | None = None
    intent: Intent | None = None
    faq_candidates: tuple[FaqCandidate, ...] = ()
    slots: Mapping[str, Scalar] = field(default_factory=dict)
    draft_ticket: Mapping[str, Scalar] | None = None
    ticket_number: str | None = None
    profile: Mapping[str, str] = field(default_factory=dict)
    summary: str | None = None

    def to_json(self) -> dict[str, object]:
        """The packet as stored with the handoff and shown to agents (absent fields left out)."""
        out: dict[str, object] = {"reason": self.reason.value, "grid": self.grid}
        if self.skill is not None:
            out["skill"] = self.skill
        if self.intent is not None:
            out["intent"] = {"name": self.intent.name, "confidence": self.intent.confidence}
        if self.faq_candidates:
            out["faq_candidates"] = [
                {"faq_id": c.faq_id, "question": c.question, "score": c.score} for c in self.faq_candidates
            ]
        if self.slots:
            out["slots"] = dict(self.slots)
        if self.draft_ticket is not None:
            out["draft_ticket"] = dict(self.draft_ticket)
        if self.ticket_number is not None:
            out["ticket_number"] = self.ticket_number
        if self.profile:
            out["profile"] = dict(self.profile)
        if self.summary is not None:
            out["summary"] = self.summary
        return out


def parse_packet(raw: object) -> Packet:
    """Validate what the action server sent; raises PacketError."""
    if not isinstance(raw, Mapping):
        raise PacketError("packet must be an object")
    reason = raw.get("reason")
    if not isinstance(reason, str) or reason not in {r.value for r in HandoffReason}:
        raise PacketError(f"unknown reason {reason!r}")
    return Packet(
        reason=HandoffReason(reason),
        grid=_text(raw.get("grid"), "grid", MAX_GRID_CHARS, required=True),
        skill=_optional_text(raw.get("skill"), "skill", MAX_SKILL_CHARS),
        intent=_intent(raw.get("intent")),
        faq_candidates=_faq_candidates(raw.get("faq_candidates")),
        slots=_scalar_map(raw.get("slots"), "slots", MAX_SLOTS, MAX_SLOT_VALUE_CHARS) or {},
        draft_ticket=_scalar_map(raw.get("draft_ticket"), "draft_ticket", MAX_DRAFT_KEYS, MAX_DRAFT_VALUE_CHARS),
        ticket_number=_optional_text(raw.get("ticket_number"), "ticket_number", MAX_TICKET_NUMBER_CHARS),
        profile=_profile(raw.get("profile")),
        summary=_optional_text(raw.get("summary"), "summary", MAX_SUMMARY_CHARS),
    )


def _text(value: object, name: str, limit: int, required: bool = False) -> str:
    if not isinstance(value, str):
        raise PacketError(f"{name} must be a string")
    value = value.strip()
    if required and not value:
        raise PacketError(f"{name} must not be empty")
    if len(value) > limit:
        raise PacketError(f"{name} is longer than {limit} characters")
    return value


def _optional_text(value: object, name: str, limit: int) -> str | None:
    return None if value is None else _text(value, name, limit)


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PacketError(f"{name} must be a number")
    return float(value)


def _intent(value: object) -> Intent | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise PacketError("intent must be an object")
    confidence = _number(value.get("confidence"), "intent.confidence")
    if not 0.0 <= confidence <= 1.0:
        raise PacketError("intent.confidence must be between 0 and 1")
    return Intent(_text(value.get("name"), "intent.name", MAX_INTENT_CHARS, required=True), confidence)


def _faq_candidates(value: object) -> tuple[FaqCandidate, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise PacketError("faq_candidates must be a list")
    if len(value) > MAX_FAQ_CANDIDATES:
        raise PacketError(f"at most {MAX_FAQ_CANDIDATES} faq_candidates")
    candidates = []
    for item in value:
        if not isinstance(item, Mapping):
            raise PacketError("each faq candidate must be an object")
        faq_id = item.get("faq_id")
        if isinstance(faq_id, bool) or not isinstance(faq_id, int):
            raise PacketError("faq_candidates[].faq_id must be an integer")
        candidates.append(
            FaqCandidate(
                faq_id=faq_id,
                question=_text(item.get("question"), "faq_candidates[].question", MAX_QUESTION_CHARS),
                score=_number(item.get("score"), "faq_candidates[].score"),
            )
        )
    return tuple(candidates)


def _scalar_map(value: object, name: str, max_keys: int, max_chars: int) -> dict[str, Scalar] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise PacketError(f"{name} must be an object")
    if len(value) > max_keys:
        raise PacketError(f"{name} has more than {max_keys} entries")
    out: dict[str, Scalar] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key or len(key) > MAX_KEY_CHARS:
            raise PacketError(f"{name} keys must be short strings")
        if isinstance(item, str):
            if len(item) > max_chars:
                raise PacketError(f"{name}.{key} is longer than {max_chars} characters")
        elif isinstance(item, float) and not math.isfinite(item):
            raise PacketError(f"{name}.{key} must be a finite number")
        elif item is not None and not isinstance(item, bool | int | float):
            raise PacketError(f"{name}.{key} must be a string, number, boolean or null")
        out[key] = item
    return out


def _profile(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PacketError("profile must be an object")
    return {
        key: _text(value[key], f"profile.{key}", MAX_PROFILE_CHARS)
        for key in PROFILE_KEYS
        if value.get(key) is not None
    }
