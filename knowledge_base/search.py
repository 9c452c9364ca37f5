"""The knowledge-base search service: ``search(text, k, grid)`` over the published FAQs.

The process keeps one :class:`KnowledgeIndex` and rebuilds it when the FAQ table changes
(checked at most every ``refresh_seconds``); vectors come from the embedding cache, so a rebuild
or a restart encodes only texts it has never seen.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from griddesk.db import session_scope
from griddesk.errors import DomainError
from griddesk.settings import Settings, get_settings
from knowledge_base.adapter import Adapter
from knowledge_base.encoders import Encoder, encode_cached, get_encoder
from knowledge_base.index import FaqEntry, KnowledgeIndex, SearchResult, Thresholds
from knowledge_base.learning import active_adapter
from knowledge_base.models import AdapterVersion, Faq, FaqStatus

MAX_K = 20


class QueryError(DomainError, ValueError):
    """A search request that cannot be served as asked (empty text, k out of range…)."""

    code = "invalid_query"


def load_entries(session: Session, ids: set[int] | None = None) -> list[FaqEntry]:
    """Snapshots of the published FAQs (optionally only those with the given ids)."""
    stmt = select(Faq).where(Faq.status == FaqStatus.PUBLISHED).order_by(Faq.id)
    entries = [
        FaqEntry(
            id=faq.id,
            external_id=faq.external_id,
            question=faq.question,
            answer=faq.answer,
            similar_questions=tuple(faq.similar_questions or ()),
            category=faq.category,
            grid=faq.grid,
            overrides_id=faq.overrides_id,
        )
        for faq in session.scalars(stmt)
    ]
    return entries if ids is None else [e for e in entries if e.id in ids]


def build_index(
    session: Session,
    encoder: Encoder,
    entries: list[FaqEntry],
    dense_weight: float,
    thresholds: Thresholds,
    progress: Callable[[int], object] | None = None,
    adapter: Adapter | str | None = "active",
) -> KnowledgeIndex:
    """Build an index over ``entries``; vectors of texts not yet cached are encoded and cached.

    ``adapter``: ``"active"`` (default) uses the active trained adapter of this encoder, if any;
    or pass one explicitly (``None`` for the bare encoder).
    """

    def encode_rows(texts: list[str]) -> np.ndarray:
        return encode_cached(session, encoder, texts, progress=progress)

    if isinstance(adapter, str):
        adapter = active_adapter(session, encoder.name)
    index = KnowledgeIndex(entries, encode_rows, encoder.encode, dense_weight, thresholds, adapter=adapter)
    session.commit()
    return index


def _table_stamp(session: Session) -> tuple[object, ...]:
    """Changes whenever an FAQ is added, removed, edited, published or unpublished, or another
    trained adapter version becomes active (``train``, ``train --rollback``)."""
    faqs = tuple(session.execute(select(func.count(Faq.id), func.max(Faq.updated_at), func.sum(Faq.version))).one())
    return (*faqs, session.scalar(select(AdapterVersion.id).where(AdapterVersion.active.is_(True))))


class KnowledgeBase:
    """The process-wide searchable knowledge base."""

    def __init__(self, settings: Settings, encoder: Encoder | None = None, refresh_seconds: float = 3.0):
        self.settings = settings
        self._encoder = encoder
        self.thresholds = Thresholds(
            settings.kb_answer_threshold, settings.kb_suggest_threshold, settings.kb_answer_margin
        )
        self.refresh_seconds = refresh_seconds
        self._index: KnowledgeIndex | None = None
        self._stamp: tuple[object, ...] | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    @property
    def encoder(self) -> Encoder:
        """The encoder, loaded on first use (not when the service object is made)."""
        if self._encoder is None:
            self._encoder = get_encoder(self.settings.encoder)
        return self._encoder

    def index(self) -> KnowledgeIndex:
        """The current index, rebuilt first if the FAQs changed since it was built."""
        now = time.monotonic()
        if self._index is not None and now - self._checked_at < self.refresh_seconds:
            return self._index
        with self._lock:
            with session_scope() as session:
                stamp = _table_stamp(session)
                if self._index is None or stamp != self._stamp:
                    self._index = build_index(
                        session,
                        self.encoder,
                        load_entries(session),
                        self.settings.kb_dense_weight,
                        self.thresholds,
                    )
                    self._stamp = stamp
            self._checked_at = time.monotonic()
            return self._index

    def refresh(self) -> None:
        """Check the FAQ table on the next search instead of waiting out ``refresh_seconds``
        (this process just changed it)."""
        self._checked_at = 0.0

    def search(self, text: str, k: int = 3, grid: str | None = None) -> SearchResult:
        if not isinstance(text, str) or not text.strip():
            raise QueryError("查询无效：问题不能为空。")
        if len(text) > self.settings.max_message_chars:
            raise QueryError(f"查询无效：问题最多 {self.settings.max_message_chars} 个字符。")
        if not 1 <= k <= MAX_K:
            raise QueryError(f"查询无效：返回条数必须是 1 到 {MAX_K} 之间的整数。", field="k")
        return self.index().search(text, k=k, grid=grid or None)


_kb: KnowledgeBase | None = None
_kb_lock = threading.Lock()


def get_knowledge_base() -> KnowledgeBase:
    global _kb
    with _kb_lock:
        if _kb is None:
            _kb = KnowledgeBase(get_settings())
        return _kb


def reset_knowledge_base() -> None:
    global _kb
    with _kb_lock:
        _kb = None


def search(text: str, k: int = 3, grid: str | None = None) -> SearchResult:
    """Search the published FAQs visible to ``grid``'s customers (global only when ``grid`` is None)."""
    return get_knowledge_base().search(text, k=k, grid=grid)
