"""In-memory hybrid index: dense sentence vectors plus a lexical score, fused.

Every FAQ contributes one row per text (standard question and each similar question); an FAQ's
score is the best of its rows. The fused score of a row is

    dense_weight * clip(cosine(A q, A row) - hub(row)) + (1 - dense_weight) * bm25(query, row)

where ``A`` is the learned adapter when one is active (``python -m knowledge_base train``;
identity otherwise), ``hub`` a share of how close the row sits to rows of other FAQs
(:func:`hub_scores`; generic questions otherwise win queries they do not answer), and ``bm25``
the BM25 score over characters and character bigrams scaled into [0, 1] (``knowledge_base.lexical``).
The score stays in [0, 1], so the answer / suggest / fallback thresholds mean the same at any size.
Building happens off the hot path; a search is one query encode plus two matrix products.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from griddesk.text import normalize
from knowledge_base.adapter import Adapter
from knowledge_base.lexical import DEFAULT_LEXICAL, make_lexical

HUB_REFERENCE_ROWS = 2048
HUB_NEIGHBOURS = 10
HUB_WEIGHT = 0.3  # share of the centred hub score taken off the dense cosine (README: Evaluation)


def hub_scores(
    vectors: np.ndarray,
    groups: np.ndarray | None = None,
    neighbours: int = HUB_NEIGHBOURS,
    reference: int = HUB_REFERENCE_ROWS,
) -> np.ndarray:
    """How much each row is a *hub* (close to many other rows), centred on 0.

    A hub row — a generic question such as 花呗怎么用 — sits near everything and wins queries it
    does not answer. Its score is the mean cosine to its ``neighbours`` nearest rows of other FAQs
    (``groups``: the FAQ of each row; among at most ``reference`` rows, a fixed sample), minus the
    mean of that over all rows; the index subtracts a share of it from the dense cosine
    (cross-domain similarity local scaling, CSLS, applied on the FAQ side only).
    """
    n = len(vectors)
    if n < 3:
        return np.zeros(n, dtype=np.float32)
    groups = np.arange(n) if groups is None else np.asarray(groups)
    chosen = np.arange(n) if n <= reference else np.sort(np.random.default_rng(0).choice(n, reference, replace=False))
    ref, ref_groups = vectors[chosen], groups[chosen]
    k = max(1, min(neighbours, len(chosen) - 1))
    hub = np.empty(n, dtype=np.float32)
    for start in range(0, n, 1024):
        sims = vectors[start : start + 1024] @ ref.T
        sims[groups[start : start + 1024, None] == ref_groups[None, :]] = -1.0
        hub[start : start + 1024] = np.partition(sims, -k, axis=1)[:, -k:].mean(axis=1)
    return np.asarray(hub - hub.mean(), dtype=np.float32)


class Decision(StrEnum):
    ANSWER = "answer"
    SUGGEST = "suggest"
    FALLBACK = "fallback"


@dataclass(frozen=True)
class Thresholds:
    """Decision bands of the top FAQ's score, calibrated with ``benchmarks/kb_thresholds.py``.

    *answer* needs the top score at or above ``answer`` **and** a lead of at least ``margin`` over
    the second FAQ: two near-equal candidates are a question the bot should not guess (a confident
    wrong answer is worse than a menu of three). *suggest* needs ``suggest``; below it, *fallback*.
    """

    answer: float = 0.72
    suggest: float = 0.45
    margin: float = 0.10

    def decide(self, top_score: float | None, second_score: float | None = None) -> Decision:
        if top_score is None or top_score < self.suggest:
            return Decision.FALLBACK
        if top_score < self.answer:
            return Decision.SUGGEST
        if second_score is not None and top_score - second_score < self.margin:
            return Decision.SUGGEST
        return Decision.ANSWER

    def band(self, rank: int, score: float, decision: Decision) -> Decision:
        """What the bot does with the hit at ``rank`` of a result decided ``decision``: the top hit gets the
        decision; the others are offered as suggestions when they reach the suggest threshold."""
        if rank == 0:
            return decision
        return Decision.SUGGEST if score >= self.suggest else Decision.FALLBACK


@dataclass(frozen=True)
class FaqEntry:
    """An immutable snapshot of a published FAQ, as the index serves it."""

    id: int
    external_id: str
    question: str
    answer: str
    similar_questions: tuple[str, ...] = ()
    category: str = ""
    grid: str | None = None
    overrides_id: int | None = None

    def texts(self) -> list[str]:
        return [self.question, *self.similar_questions]


@dataclass(frozen=True)
class Hit:
    faq: FaqEntry
    score: float
    dense: float
    lexical: float
    matched: str

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.faq.id,
            "external_id": self.faq.external_id,
            "question": self.faq.question,
            "answer": self.faq.answer,
            "category": self.faq.category,
            "grid": self.faq.grid,
            "score": round(self.score, 4),
            "dense": round(self.dense, 4),
            "lexical": round(self.lexical, 4),
            "matched": self.matched,
        }


@dataclass(frozen=True)
class SearchResult:
    query: str
    decision: Decision
    hits: list[Hit] = field(default_factory=list)

    @property
    def top(self) -> Hit | None:
        return self.hits[0] if self.hits else None


class KnowledgeIndex:
    """Searchable snapshot of a set of FAQs. Immutable once built; rebuild to refresh."""

    def __init__(
        self,
        entries: Sequence[FaqEntry],
        encode_rows: Callable[[list[str]], np.ndarray],
        encode_query: Callable[[list[str]], np.ndarray],
        dense_weight: float = 0.6,
        thresholds: Thresholds | None = None,
        *,
        adapter: Adapter | None = None,
        hub_weight: float = HUB_WEIGHT,
        lexical: str = DEFAULT_LEXICAL,
    ) -> None:
        self.entries = list(entries)
        self.dense_weight = dense_weight
        self.thresholds = thresholds or Thresholds()
        self.adapter = adapter
        self.hub_weight = hub_weight
        self._encode_query = encode_query
        row_faq: list[int] = []
        row_texts: list[str] = []
        for position, entry in enumerate(self.entries):
            for text in dict.fromkeys(normalize(t) for t in entry.texts() if t.strip()):
                row_faq.append(position)
                row_texts.append(text)
        self._row_faq = np.asarray(row_faq, dtype=np.int64)
        self._row_texts = row_texts
        self._raw = encode_rows(row_texts) if row_texts else np.zeros((0, 1), dtype=np.float32)
        self._dense = adapter.apply(self._raw) if adapter is not None and row_texts else self._raw
        self._hub = (
            hub_weight * hub_scores(self._dense, self._row_faq)
            if hub_weight and row_texts
            else np.zeros(len(row_texts), dtype=np.float32)
        )
        self._lexical = make_lexical(lexical, row_texts)
        self._grid_masks: dict[str | None, np.ndarray | None] = {}

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def rows(self) -> int:
        return len(self._row_texts)

    def row_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """The dense vectors of rows this index holds, by their normalised text (sub-indexes reuse them)."""
        lookup = {text: row for row, text in enumerate(self._row_texts)}
        return self._raw[[lookup[t] for t in texts]]

    def _mask(self, grid: str | None) -> np.ndarray | None:
        """Rows visible to a grid's customers: global FAQs not overridden there, plus the grid's own."""
        if grid in self._grid_masks:
            return self._grid_masks[grid]
        overridden = {e.overrides_id for e in self.entries if grid is not None and e.grid == grid}
        visible = np.asarray(
            [
                (e.grid is None and e.id not in overridden) or (grid is not None and e.grid == grid)
                for e in self.entries
            ],
            dtype=bool,
        )
        mask = None if visible.all() else visible[self._row_faq]
        self._grid_masks[grid] = mask
        return mask

    def search(self, text: str, k: int = 3, grid: str | None = None) -> SearchResult:
        return self.search_many([text], k=k, grid=grid)[0]

    def search_many(
        self, texts: Sequence[str], k: int = 3, grid: str | None = None, vectors: np.ndarray | None = None
    ) -> list[SearchResult]:
        """Search several queries at once (one batched encode); each ranked exactly as ``search``.
        ``vectors``: the queries' encodings when the caller has them already (of their normalised texts,
        by this index's encoder, e.g. from the embedding cache): nothing is encoded then."""
        normalized = [normalize(t) for t in texts]
        if not self.rows or not texts:
            return [SearchResult(query=t, decision=Decision.FALLBACK) for t in texts]
        queries = self._encode_query([n or "?" for n in normalized]) if vectors is None else vectors
        if self.adapter is not None:
            queries = self.adapter.apply(queries)
        dense = queries @ self._dense.T
        dense -= self._hub
        np.clip(dense, 0.0, 1.0, out=dense)
        lexical = self._lexical.scores(normalized)
        fused = self.dense_weight * dense + (1.0 - self.dense_weight) * lexical
        mask = self._mask(grid)
        results = []
        for i, text in enumerate(texts):
            row_scores = fused[i] if mask is None else np.where(mask, fused[i], -1.0)
            hits = self._top_faqs(row_scores, dense[i], lexical[i], max(k, 2))
            decision = self.thresholds.decide(hits[0].score if hits else None, hits[1].score if len(hits) > 1 else None)
            results.append(SearchResult(query=text, decision=decision, hits=hits[:k]))
        return results

    def _top_faqs(self, scores: np.ndarray, dense: np.ndarray, lexical: np.ndarray, k: int) -> list[Hit]:
        hits: list[Hit] = []
        seen: set[int] = set()
        take = min(len(scores), max(8 * k, 32))
        while True:
            top = np.argpartition(-scores, take - 1)[:take] if take < len(scores) else np.arange(len(scores))
            for row in top[np.argsort(-scores[top], kind="stable")]:
                if scores[row] < 0:
                    break
                position = int(self._row_faq[row])
                if position in seen:
                    continue
                seen.add(position)
                hits.append(
                    Hit(
                        faq=self.entries[position],
                        score=float(scores[row]),
                        dense=float(dense[row]),
                        lexical=float(lexical[row]),
                        matched=self._row_texts[row],
                    )
                )
                if len(hits) == k:
                    return hits
            if take >= len(scores):
                return hits
            hits.clear()
            seen.clear()
            take = min(len(scores), take * 4)
