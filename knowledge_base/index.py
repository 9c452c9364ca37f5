"""In-memory hybrid index: dense sentence vectors plus a character n-gram TF-IDF, fused.

Every FAQ contributes one row per text (standard question and each similar question); an FAQ's
score is the best of its rows. The fused score of a row is

    dense_weight * max(0, cosine(query, row)) + (1 - dense_weight) * tfidf_cosine(query, row)

which stays in [0, 1], so the answer / suggest / fallback thresholds mean the same at any size.
Building happens off the hot path; a search is one query encode plus two matrix products.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from knowledge_base.normalize import lexical_chars, normalize


class Decision(StrEnum):
    ANSWER = "answer"
    SUGGEST = "suggest"
    FALLBACK = "fallback"


@dataclass(frozen=True)
class Thresholds:
    answer: float = 0.72
    suggest: float = 0.45

    def decide(self, top_score: float | None) -> Decision:
        if top_score is None or top_score < self.suggest:
            return Decision.FALLBACK
        return Decision.ANSWER if top_score >= self.answer else Decision.SUGGEST


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
    ) -> None:
        self.entries = list(entries)
        self.dense_weight = dense_weight
        self.thresholds = thresholds or Thresholds()
        self._encode_query = encode_query
        row_faq: list[int] = []
        row_texts: list[str] = []
        for position, entry in enumerate(self.entries):
            for text in dict.fromkeys(normalize(t) for t in entry.texts() if t.strip()):
                row_faq.append(position)
                row_texts.append(text)
        self._row_faq = np.asarray(row_faq, dtype=np.int64)
        self._row_texts = row_texts
        self._dense = encode_rows(row_texts) if row_texts else np.zeros((0, 1), dtype=np.float32)
        self._lexical: TfidfVectorizer | None = None
        self._lexical_matrix = None
        if row_texts:
            self._lexical = TfidfVectorizer(
                analyzer="char", ngram_range=(1, 2), lowercase=False, sublinear_tf=True, dtype=np.float32
            )
            try:
                # vocabulary x rows, so that one query row times it gives every row's cosine
                self._lexical_matrix = self._lexical.fit_transform(
                    [lexical_chars(t) for t in row_texts]
                ).T.tocsr()
            except ValueError:  # no lexical characters at all (e.g. only punctuation)
                self._lexical = None
        self._grid_masks: dict[str | None, np.ndarray | None] = {}

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def rows(self) -> int:
        return len(self._row_texts)

    def row_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """The dense vectors of rows this index holds, by their normalised text (sub-indexes reuse them)."""
        lookup = {text: row for row, text in enumerate(self._row_texts)}
        return self._dense[[lookup[t] for t in texts]]

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

    def _lexical_scores(self, queries: list[str]) -> np.ndarray:
        if self._lexical is None or self._lexical_matrix is None:
            return np.zeros((len(queries), self.rows), dtype=np.float32)
        q = self._lexical.transform([lexical_chars(t) for t in queries])
        return np.asarray((q @ self._lexical_matrix).toarray(), dtype=np.float32)

    def search(self, text: str, k: int = 3, grid: str | None = None) -> SearchResult:
        return self.search_many([text], k=k, grid=grid)[0]

    def search_many(self, texts: Sequence[str], k: int = 3, grid: str | None = None) -> list[SearchResult]:
        """Search several queries at once (one batched encode); each ranked exactly as ``search``."""
        normalized = [normalize(t) for t in texts]
        if not self.rows or not texts:
            return [SearchResult(query=t, decision=Decision.FALLBACK) for t in texts]
        dense = self._encode_query([n or "?" for n in normalized]) @ self._dense.T
        np.clip(dense, 0.0, 1.0, out=dense)
        lexical = self._lexical_scores(normalized)
        fused = self.dense_weight * dense + (1.0 - self.dense_weight) * lexical
        mask = self._mask(grid)
        results = []
        for i, text in enumerate(texts):
            row_scores = fused[i] if mask is None else np.where(mask, fused[i], -1.0)
            hits = self._top_faqs(row_scores, dense[i], lexical[i], k)
            decision = self.thresholds.decide(hits[0].score if hits else None)
            results.append(SearchResult(query=text, decision=decision, hits=hits))
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
