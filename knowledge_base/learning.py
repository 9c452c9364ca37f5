"""The knowledge base learns from its own data: versioned, reversible vector adapters.

``train_from_knowledge_base`` pairs every similar question of a published FAQ with its standard
question (and any extra ``(text, faq id)`` pairs the caller has: curated mappings from the
unanswered inbox, questions customers marked 有帮助), measures on a validation part held out by FAQ
(those FAQs' similar questions are asked against an index where they keep only their standard
question), trains an adapter on the other FAQs, measures again, then refits on everything and
stores the result as a new version in ``kb_adapter``. It becomes active only when the validation
did not get worse (or when forced); ``rollback`` goes back to the version active before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from griddesk.db import utcnow
from griddesk.text import normalize
from knowledge_base.adapter import Adapter
from knowledge_base.encoders import Encoder, encode_cached
from knowledge_base.index import FaqEntry, KnowledgeIndex, Thresholds
from knowledge_base.models import AdapterVersion
from knowledge_base.training import TrainingConfig, make_pair_set, train_adapter

MIN_PAIRS = 4
VALIDATION_SHARE = 5  # one FAQ in five (by a hash of its external id) is held out for validation
MRR_DEPTH = 10


class NotEnoughData(ValueError):
    """Too few labelled paraphrases to learn anything."""


@dataclass(frozen=True)
class Figures:
    queries: int
    top1: float
    top3: float
    mrr: float


@dataclass(frozen=True)
class TrainingOutcome:
    version: int
    activated: bool
    pairs: int
    faqs: int
    validation_faqs: int
    before: Figures
    after: Figures


@dataclass(frozen=True)
class RollbackOutcome:
    previous: int | None
    now: int | None


def _is_validation(entry: FaqEntry) -> bool:
    return int(hashlib.sha256(entry.external_id.encode()).hexdigest(), 16) % VALIDATION_SHARE == 0


def groups_of(entries: Sequence[FaqEntry], extra: Sequence[tuple[str, int]] = ()) -> dict[int, list[str]]:
    """FAQ id -> normalised texts meaning the same: standard question first, then similar questions
    and extra mapped texts. Only FAQs with at least one paraphrase appear."""
    extra_by_faq: dict[int, list[str]] = {}
    for text, faq_id in extra:
        extra_by_faq.setdefault(faq_id, []).append(text)
    groups = {}
    for entry in entries:
        texts = list(
            dict.fromkeys(t for t in (normalize(x) for x in [*entry.texts(), *extra_by_faq.get(entry.id, [])]) if t)
        )
        if len(texts) > 1:
            groups[entry.id] = texts
    return groups


def measure(index: KnowledgeIndex, queries: Sequence[tuple[str, int]]) -> Figures:
    """top-1 / top-3 / MRR@10 of ``(text, faq id)`` queries on ``index``."""
    top1 = top3 = 0
    reciprocal = 0.0
    for start in range(0, len(queries), 256):
        part = queries[start : start + 256]
        for (_, gold), result in zip(part, index.search_many([q for q, _ in part], k=MRR_DEPTH), strict=True):
            ranked = [hit.faq.id for hit in result.hits]
            if gold in ranked:
                rank = ranked.index(gold) + 1
                top1 += rank == 1
                top3 += rank <= 3
                reciprocal += 1.0 / rank
    n = max(len(queries), 1)
    return Figures(len(queries), top1 / n, top3 / n, reciprocal / n)


def train_from_knowledge_base(
    session: Session,
    encoder: Encoder,
    entries: Sequence[FaqEntry],
    dense_weight: float,
    thresholds: Thresholds,
    config: TrainingConfig = TrainingConfig(),  # noqa: B008 - a frozen dataclass of defaults
    extra: Sequence[tuple[str, int]] = (),
    force: bool = False,
    progress: Callable[[str], object] | None = None,
) -> TrainingOutcome:
    """Train, validate and store a new adapter version (see the module docstring)."""
    say = progress or (lambda _message: None)
    groups = groups_of(entries, extra)
    pairs = sum(len(texts) - 1 for texts in groups.values())
    if pairs < MIN_PAIRS:
        raise NotEnoughData(f"only {pairs} labelled paraphrases (similar questions); at least {MIN_PAIRS} are needed")

    def encode(texts: list[str]) -> np.ndarray:
        return encode_cached(session, encoder, texts)

    by_id = {e.id: e for e in entries}
    validation = {i for i in groups if _is_validation(by_id[i])}
    if not validation or len(validation) == len(groups):
        validation = {sorted(groups, key=lambda i: by_id[i].external_id)[0]}
    training_groups = [texts for i, texts in groups.items() if i not in validation]
    queries = [(text, i) for i in sorted(validation) for text in groups[i][1:]]
    held_entries = [replace(e, similar_questions=()) if e.id in validation else e for e in entries]

    def index_with(adapter: Adapter | None) -> KnowledgeIndex:
        return KnowledgeIndex(held_entries, encode, encoder.encode, dense_weight, thresholds, adapter=adapter)

    say(f"验证：{len(validation)} 条问答的 {len(queries)} 个相似问（训练不使用）")
    before = measure(index_with(None), queries)
    trial = train_adapter(make_pair_set(training_groups, encode), encoder.name, config) if training_groups else None
    after = measure(index_with(trial), queries) if trial is not None else before
    say("用全部相似问重新训练")
    final = train_adapter(make_pair_set(list(groups.values()), encode), encoder.name, config)
    activate = force or (after.top1, after.mrr) >= (before.top1, before.mrr)
    row = AdapterVersion(
        encoder=encoder.name,
        dim=final.dim,
        matrix=final.to_bytes(),
        pairs=pairs,
        faqs=len(groups),
        report={
            "before": asdict(before),
            "after": asdict(after),
            "validation_faqs": len(validation),
            "config": asdict(config),
        },
    )
    session.add(row)
    session.flush()
    if activate:
        _activate(session, row)
    session.commit()
    return TrainingOutcome(row.id, activate, pairs, len(groups), len(validation), before, after)


def _activate(session: Session, row: AdapterVersion | None) -> None:
    session.execute(update(AdapterVersion).where(AdapterVersion.active.is_(True)).values(active=False))
    if row is not None:
        row.active = True
        row.activated_at = utcnow()


def active_version(session: Session) -> AdapterVersion | None:
    return session.scalars(select(AdapterVersion).where(AdapterVersion.active.is_(True))).first()


def active_adapter(session: Session, encoder_name: str) -> Adapter | None:
    """The active adapter if it was trained for ``encoder_name`` (another encoder's is ignored)."""
    row = active_version(session)
    if row is None or row.encoder != encoder_name:
        return None
    return Adapter.from_bytes(row.encoder, row.matrix, row.id)


def versions(session: Session) -> list[AdapterVersion]:
    return list(session.scalars(select(AdapterVersion).order_by(AdapterVersion.id)))


def rollback(session: Session) -> RollbackOutcome:
    """Deactivate the active version and reactivate the latest earlier version that was ever active."""
    current = active_version(session)
    if current is None:
        return RollbackOutcome(None, None)
    earlier = session.scalars(
        select(AdapterVersion)
        .where(AdapterVersion.id < current.id, AdapterVersion.activated_at.is_not(None))
        .order_by(AdapterVersion.id.desc())
    ).first()
    _activate(session, earlier)
    session.commit()
    return RollbackOutcome(current.id, earlier.id if earlier else None)


def activate_version(session: Session, version: int) -> bool:
    """Make ``version`` the active one; False when there is no such version."""
    row = session.get(AdapterVersion, version)
    if row is None:
        return False
    _activate(session, row)
    session.commit()
    return True
