"""Helpers shared by the benchmarks."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

# A benchmark is one client sending everything from one address: the rate limits are counted (their cost is
# part of what is measured) but never reached.
UNREACHED_LIMITS = {
    f"GRIDDESK_RATE_{name}": "1000000"
    for name in (
        "MESSAGES_PER_ADDRESS",
        "MESSAGES_PER_CONVERSATION",
        "READS_PER_ADDRESS",
        "READS_PER_CONVERSATION",
        "HANDOFFS_PER_ADDRESS",
    )
}


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50": statistics.median(ordered), "p95": pick(0.95), "max": ordered[-1], "n": len(ordered)}


def faq_eval_to_import_rows(path: Path) -> list[dict[str, str]]:
    """The faq_eval format (faq_id, question, answer, paraphrases) as importer rows."""
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                rows.append(
                    {"external_id": record["faq_id"], "question": record["question"], "answer": record["answer"]}
                )
    return rows


def queries_of(path: Path, limit: int) -> list[str]:
    out: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                out.extend(json.loads(line).get("paraphrases") or [])
            if len(out) >= limit:
                break
    return out[:limit]
