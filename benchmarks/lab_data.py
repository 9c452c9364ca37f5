"""Shared data plumbing of the retrieval experiments: splits of a faq_eval file and cached vectors.

The split is the one ``python -m knowledge_base evaluate --sample N --seed S`` draws (same random
calls), so a lab figure and an ``evaluate`` figure are measured on the same FAQs. FAQs with queries
that are not in the sample are the training part: only their question and paraphrases are ever used
for training or tuning; the held-out part's queries never are.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from griddesk.settings import get_settings
from knowledge_base.encoders import encode_cached, get_encoder
from knowledge_base.evaluate import EvalCase, cache_engine, load_cases


@dataclass(frozen=True)
class Split:
    held: list[EvalCase]  # FAQs with queries that are scored
    distractors: list[EvalCase]  # FAQs without queries (the "with distractors" setting adds them)
    train: list[EvalCase]  # FAQs with queries outside the sample: training material


def split_cases(path: Path, sample: int | None, seed: int = 0) -> Split:
    cases = load_cases(path)
    queried = [c for c in cases if c.paraphrases]
    distractors = [c for c in cases if not c.paraphrases]
    if sample is None:
        return Split(queried, distractors, [])
    chosen = {c.faq_id for c in random.Random(seed).sample(queried, min(sample, len(queried)))}
    return Split(
        [c for c in queried if c.faq_id in chosen],
        distractors,
        [c for c in queried if c.faq_id not in chosen],
    )


def folds(cases: Sequence[EvalCase], k: int, seed: int = 0) -> list[list[EvalCase]]:
    """``k`` disjoint parts of ``cases`` by FAQ (for cross-fitting over a whole file)."""
    order = list(cases)
    random.Random(seed).shuffle(order)
    return [order[i::k] for i in range(k)]


class VectorStore:
    """Sentence vectors of any texts, cached in one lab database per encoder
    (GRIDDESK_DATA_DIR/eval/lab-<encoder>.db, so encoders can fill their caches in parallel)."""

    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder or get_settings().data_dir / "eval"
        self._folder.mkdir(parents=True, exist_ok=True)
        self._engines: dict[str, Engine] = {}

    def _engine(self, spec: str) -> Engine:
        if spec not in self._engines:
            name = spec.replace("/", "_").replace(":", "_")
            self._engines[spec] = cache_engine(self._folder / f"lab-{name}.db")
        return self._engines[spec]

    def vectors(self, spec: str, texts: Sequence[str], progress: Callable[[int], object] | None = None) -> np.ndarray:
        encoder = get_encoder(spec)
        out = []
        unique = list(dict.fromkeys(texts))
        with Session(self._engine(spec)) as session:
            for start in range(0, len(unique), 2048):
                part = unique[start : start + 2048]
                out.append(encode_cached(session, encoder, part, progress=progress))
                session.commit()
        if not unique:
            return np.zeros((0, encoder.dim), dtype=np.float32)
        table = dict(zip(unique, np.vstack(out), strict=True))
        return np.vstack([table[t] for t in texts]) if texts else np.zeros((0, encoder.dim), np.float32)
