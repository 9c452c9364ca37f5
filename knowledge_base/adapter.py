"""A learned linear map on sentence vectors: what ``python -m knowledge_base train`` produces.

The encoder stays frozen; the adapter ``W`` (dim x dim, trained to start from the identity) maps
every vector ``v`` to ``normalise(W v)`` before the cosine, for the FAQ rows and the query alike.
It is numpy only, so the action server and the gateway apply it without a training framework.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np


class AdapterError(ValueError):
    """Stored adapter bytes that cannot be used (wrong shape, other encoder…)."""


@dataclass(frozen=True)
class Adapter:
    encoder: str  # name of the encoder whose vectors it maps
    matrix: np.ndarray  # (dim, dim) float32
    version: int = 0

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[0])

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        if vectors.shape[0] == 0:
            return vectors
        if vectors.shape[1] != self.dim:
            raise AdapterError(f"adapter for dimension {self.dim} applied to vectors of dimension {vectors.shape[1]}")
        mapped = np.asarray(vectors, dtype=np.float32) @ self.matrix.T
        norms = np.linalg.norm(mapped, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return np.asarray(mapped / norms, dtype=np.float32)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.save(buffer, self.matrix.astype(np.float32), allow_pickle=False)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, encoder: str, data: bytes, version: int = 0) -> Adapter:
        try:
            matrix = np.load(io.BytesIO(data), allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise AdapterError(f"unreadable adapter: {exc}") from None
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise AdapterError(f"adapter matrix must be square, got {matrix.shape}")
        return cls(encoder, matrix.astype(np.float32), version)
