"""A tiny deterministic encoder for unit tests: hashed character uni- and bigrams.

Fast and dependency-free, so index and service tests need not load a real model; the tests that
are about the real encoders (tests/knowledge_base/test_encoders.py) use the real ones.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np


class HashingEncoder:
    def __init__(self, dim: int = 256, name: str = "test-hashing") -> None:
        self.name = name
        self.dim = dim
        self.calls: list[int] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            grams = list(text) + [text[i : i + 2] for i in range(len(text) - 1)]
            for gram in grams:
                out[row, zlib.crc32(gram.encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms

    @property
    def encoded(self) -> int:
        return sum(self.calls)
