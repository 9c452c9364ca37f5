"""Lexical scorers over the index rows: character n-gram TF-IDF cosine and BM25 (characters or words).

Every scorer is fitted on the rows of one index and gives, for a batch of normalised queries, a
queries x rows matrix of scores in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from griddesk.text import lexical_chars

DEFAULT_LEXICAL = "bm25c"


class LexicalScorer:
    name = "lexical"

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        raise NotImplementedError


class EmptyScorer(LexicalScorer):
    def __init__(self, rows: int) -> None:
        self._rows = rows

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        return np.zeros((len(queries), self._rows), dtype=np.float32)


class CharTfidf(LexicalScorer):
    """Cosine of sublinear TF-IDF vectors of character n-grams (CJK, letters, digits only)."""

    def __init__(self, rows: Sequence[str], ngram_range: tuple[int, int] = (1, 2)) -> None:
        self.name = f"tfidf-char{ngram_range[0]}{ngram_range[1]}"
        self._vectorizer = TfidfVectorizer(
            analyzer="char", ngram_range=ngram_range, lowercase=False, sublinear_tf=True, dtype=np.float32
        )
        # vocabulary x rows, so that one query row times it gives every row's cosine
        self._matrix = self._vectorizer.fit_transform([lexical_chars(t) for t in rows]).T.tocsr()

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        q = self._vectorizer.transform([lexical_chars(t) for t in queries])
        return np.asarray((q @ self._matrix).toarray(), dtype=np.float32)


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def word_tokens(text: str) -> list[str]:
    """jieba words of a normalised text, keeping only those with a lexical character."""
    return [w for w in _jieba().lcut(text) if lexical_chars(w)]


def char_tokens(text: str) -> list[str]:
    chars = lexical_chars(text)
    return list(chars) + [chars[i : i + 2] for i in range(len(chars) - 1)]


class Bm25(LexicalScorer):
    """Okapi BM25, scaled into [0, 1] by the query's score against itself as a row.

    A row that repeats the query scores 1 (as with a cosine); a row sharing no term scores 0.
    """

    def __init__(
        self,
        rows: Sequence[str],
        tokenize: Callable[[str], list[str]],
        k1: float = 1.2,
        b: float = 0.75,
        name: str = "bm25",
    ) -> None:
        self.name = name
        self._vectorizer = CountVectorizer(analyzer=tokenize, dtype=np.float32)
        tf = self._vectorizer.fit_transform(rows).tocsr().astype(np.float32)
        lengths = np.asarray(tf.sum(axis=1)).ravel()
        avg = float(lengths.mean()) or 1.0
        df = np.asarray((tf > 0).sum(axis=0)).ravel()
        n = tf.shape[0]
        self._idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        norm = k1 * (1.0 - b + b * lengths / avg)
        weighted = tf.copy()
        row_of = np.repeat(np.arange(n), np.diff(weighted.indptr))
        weighted.data = weighted.data * (k1 + 1.0) / (weighted.data + norm[row_of])
        weighted = weighted @ sparse.diags(self._idf)
        self._matrix = weighted.T.tocsr()
        self._k1, self._b, self._avg = k1, b, avg

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        tf = self._vectorizer.transform(queries).tocsr().astype(np.float32)
        lengths = np.asarray(tf.sum(axis=1)).ravel()
        present = tf.copy()
        present.data[:] = 1.0
        raw = np.asarray((present @ self._matrix).toarray(), dtype=np.float32)
        norm = self._k1 * (1.0 - self._b + self._b * lengths / self._avg)
        own = tf.copy()
        row_of = np.repeat(np.arange(tf.shape[0]), np.diff(own.indptr))
        own.data = own.data * (self._k1 + 1.0) / (own.data + norm[row_of]) * self._idf[own.indices]
        best = np.asarray(own.sum(axis=1)).ravel()
        best[best == 0] = 1.0
        return np.minimum(raw / best[:, None].astype(np.float32), 1.0)


def make_lexical(name: str, rows: Sequence[str]) -> LexicalScorer:
    if not rows:
        return EmptyScorer(0)
    return _make_lexical(name, rows)


def _make_lexical(name: str, rows: Sequence[str]) -> LexicalScorer:
    """A lexical scorer by name: ``tfidf`` (char 1-2), ``tfidf13``, ``bm25c`` (chars + bigrams), ``bm25w`` (jieba)."""
    try:
        if name == "tfidf":
            return CharTfidf(rows)
        if name == "tfidf13":
            return CharTfidf(rows, (1, 3))
        if name == "tfidf11":
            return CharTfidf(rows, (1, 1))
        if name == "bm25c":
            return Bm25(rows, char_tokens, name=name)
        if name == "bm25w":
            return Bm25(rows, word_tokens, name=name)
    except ValueError:  # no lexical characters at all (e.g. only punctuation)
        return EmptyScorer(len(rows))
    raise ValueError(f"unknown lexical scorer {name!r}")
