"""The unanswered inbox: questions the bot missed or answered with low confidence, answers marked
没帮助, and agents' replies from handed-off conversations, grouped by meaning for curation. What the
knowledge base has come to answer since leaves it (``retire_answered``).

Grouping: open items with the same normalised text form a group; groups, most frequent first, join
the first cluster whose leader is at least ``threshold`` similar (cosine of the knowledge base's
embeddings), else lead a new cluster (greedy leader clustering: one pass, fast for thousands).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from conversations.milestones import Milestone, record_first
from griddesk.db import rows_changed, utcnow
from griddesk.text import normalize, strip_control
from knowledge_base.curation.base import Actor, FaqDraft, author_of
from knowledge_base.curation.drafts import add_similar_questions, create_faq
from knowledge_base.curation_errors import InboxItemsNotFound
from knowledge_base.encoders import Encoder, encode_cached
from knowledge_base.faq_fields import LIMITS, SIMILAR_SEPARATOR, looks_like_formula
from knowledge_base.index import Decision, KnowledgeIndex
from knowledge_base.models import Faq, FaqVersion, Miss

MAX_OPEN = 5000  # the newest open items considered when grouping
MAX_TEXTS = 20  # distinct phrasings one resolution adds as similar questions
PLACEHOLDER_ANSWER = "（待补充答案）"
MAX_TEXT = 2000
RETIRED_BY = "system"  # who closes items the knowledge base has come to answer


@dataclass(frozen=True)
class InboxItem:
    id: int
    text: str
    kind: str  # miss · low_confidence · unhelpful · agent_answer
    created_at: datetime
    top_faq_id: int | None
    top_score: float | None
    proposed_answer: str | None
    grid: str | None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "text": self.text,
            "kind": self.kind,
            "created_at": self.created_at.isoformat(),
            "top_faq_id": self.top_faq_id,
            "top_score": self.top_score,
            "proposed_answer": self.proposed_answer,
            "grid": self.grid,
        }


@dataclass
class Cluster:
    id: int  # the smallest item id in it (stable while the cluster's oldest item stays open)
    representative: str  # the text of its most frequent phrasing
    size: int
    items: list[InboxItem] = field(default_factory=list)  # newest first
    kinds: dict[str, int] = field(default_factory=dict)
    top_faq_id: int | None = None  # the FAQ the search most often found closest
    top_faq_question: str | None = None  # its standard question (None when it is gone)
    newest: datetime | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "representative": self.representative,
            "size": self.size,
            "items": [i.as_dict() for i in self.items],
            "kinds": dict(self.kinds),
            "top_faq_id": self.top_faq_id,
            "top_faq_question": self.top_faq_question,
            "newest": self.newest.isoformat() if self.newest else None,
            "item_ids": [i.id for i in self.items],
        }


# --- logging -------------------------------------------------------------------------------


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    return strip_control(text).strip()[:limit]


def log_unhelpful(
    session: Session, text: str, faq_id: int | None, sender_id: str | None = None, grid: str | None = None
) -> Miss | None:
    """A customer marked the answer of FAQ ``faq_id`` to ``text`` 没帮助. Blank text: nothing logged."""
    text = _clip(text or "")
    if not text:
        return None
    if faq_id is not None and session.get(Faq, faq_id) is None:
        faq_id = None
    miss = Miss(
        text=text,
        normalized=normalize(text)[:MAX_TEXT],
        decision="answer",
        kind="unhelpful",
        top_faq_id=faq_id,
        sender_id=sender_id,
        grid=grid,
    )
    session.add(miss)
    session.flush()
    if sender_id:
        record_first(session, sender_id, Milestone.UNHELPFUL, miss.created_at)
    return miss


def propose_agent_answer(
    session: Session, question: str, answer: str, sender_id: str | None = None, grid: str | None = None
) -> Miss | None:
    """An agent answered ``question`` in a handed-off conversation: propose it as a draft FAQ.
    Blank question or answer: nothing proposed."""
    question, answer = _clip(question or ""), _clip(answer or "", LIMITS["answer"])
    if not question or not answer:
        return None
    miss = Miss(
        text=question,
        normalized=normalize(question)[:MAX_TEXT],
        decision="agent",
        kind="agent_answer",
        proposed_answer=answer,
        sender_id=sender_id,
        grid=grid,
    )
    session.add(miss)
    session.flush()
    return miss


# --- grouping ------------------------------------------------------------------------------


def _item(miss: Miss) -> InboxItem:
    return InboxItem(
        miss.id, miss.text, miss.kind, miss.created_at, miss.top_faq_id, miss.top_score, miss.proposed_answer, miss.grid
    )


def _groups(misses: Sequence[Miss]) -> list[list[Miss]]:
    """Items with the same normalised text, most frequent group first (then the newest)."""
    by_text: dict[str, list[Miss]] = {}
    for miss in misses:  # newest first
        by_text.setdefault(miss.normalized or normalize(miss.text), []).append(miss)
    return sorted(by_text.values(), key=lambda g: (-len(g), -g[0].created_at.timestamp(), -g[0].id))


def _phrase(group: Sequence[Miss]) -> str:
    """How a group of alike texts is best written: its most frequent spelling, the shortest on a tie
    (``怎么办`` over ``怎么办?``)."""
    counts = Counter(m.text.strip() for m in group)
    return min(counts, key=lambda t: (-counts[t], len(t), t))


def in_scope(grids: Sequence[str]) -> ColumnElement[bool]:
    """The inbox items a grid manager of ``grids`` may read: their grids' items, and the questions that
    belong to no grid; never another grid's items, nor an agent's answer without a grid (it may come
    from any grid's chats and carry what that grid's customer told the agent)."""
    return or_(
        Miss.grid.in_(list(grids)),
        and_(Miss.grid.is_(None), Miss.kind != "agent_answer"),
    )


def clusters(
    session: Session,
    encoder: Encoder,
    limit: int = 50,
    threshold: float = 0.8,
    grids: Sequence[str] | None = None,
) -> list[Cluster]:
    """Open inbox items grouped by meaning, the biggest cluster first (then the most recent).

    ``grids``: the scope of a grid manager (``in_scope``); None = every item (admins)."""
    query = select(Miss).where(Miss.resolved_at.is_(None))
    if grids is not None:
        query = query.where(in_scope(grids))
    misses = list(session.scalars(query.order_by(Miss.created_at.desc(), Miss.id.desc()).limit(MAX_OPEN)))
    if not misses:
        return []
    groups = _groups(misses)
    keys = [g[0].normalized or normalize(g[0].text) for g in groups]
    vectors = encode_cached(session, encoder, keys)
    leaders: list[int] = []  # group index leading each cluster
    members: list[list[int]] = []
    for index in range(len(groups)):
        if leaders:
            sims = vectors[leaders] @ vectors[index]
            best = int(np.argmax(sims))
            if sims[best] >= threshold:
                members[best].append(index)
                continue
        leaders.append(index)
        members.append([index])
    out = []
    for group_indices in members:
        items = sorted((m for i in group_indices for m in groups[i]), key=lambda m: (m.created_at, m.id), reverse=True)
        faqs = Counter(m.top_faq_id for m in items if m.top_faq_id is not None)
        out.append(
            Cluster(
                id=min(m.id for m in items),
                representative=_phrase(groups[group_indices[0]]),
                size=len(items),
                items=[_item(m) for m in items],
                kinds=dict(Counter(m.kind for m in items)),
                top_faq_id=faqs.most_common(1)[0][0] if faqs else None,
                newest=items[0].created_at,
            )
        )
    out.sort(key=lambda c: (-c.size, -(c.newest.timestamp() if c.newest else 0), -c.id))
    out = out[: max(0, limit)]
    _name_top_faqs(session, out)
    return out


def _name_top_faqs(session: Session, found: Sequence[Cluster]) -> None:
    """Give each cluster its closest FAQ's question, so curators read 「怎么修改密码」, not a bare #68."""
    ids = {c.top_faq_id for c in found if c.top_faq_id is not None}
    if not ids:
        return
    questions: dict[int, str] = dict(session.execute(select(Faq.id, Faq.question).where(Faq.id.in_(ids))).all())
    for cluster in found:
        if cluster.top_faq_id is not None:
            cluster.top_faq_question = questions.get(cluster.top_faq_id)


# --- retiring what the knowledge base now answers ------------------------------------------


def _published_at(session: Session, faq_ids: set[int]) -> dict[int, datetime]:
    """When each FAQ's live version was made."""
    rows = session.execute(
        select(FaqVersion.faq_id, FaqVersion.created_at)
        .join(Faq, and_(Faq.id == FaqVersion.faq_id, Faq.published_version == FaqVersion.number))
        .where(Faq.id.in_(faq_ids))
    )
    return dict(rows.all())


def retire_answered(
    session: Session, index: KnowledgeIndex, encoder: Encoder, grids: Sequence[str] | None = None
) -> int:
    """Close the open items the knowledge base has come to answer (an FAQ imported, published, or given the
    question as a similar question since): questions missed, only suggested, or answered by an agent, which the
    search now answers directly for the item's grid; and a 没帮助 once the answer comes from another FAQ or its
    FAQ was published again after the mark. Such items record ``{"action": "answered", "faq_id": …}``.

    ``index``: the search the customers get (built with ``encoder``); ``grids``: a grid manager's scope
    (``in_scope``), None = every item. Returns how many items were closed."""
    query = select(Miss).where(Miss.resolved_at.is_(None))
    if grids is not None:
        query = query.where(in_scope(grids))
    misses = list(session.scalars(query.order_by(Miss.created_at.desc(), Miss.id.desc()).limit(MAX_OPEN)))
    if not misses:
        return 0
    keys = list(dict.fromkeys(m.normalized or normalize(m.text) for m in misses))
    vectors = encode_cached(session, encoder, keys)
    row = {key: i for i, key in enumerate(keys)}
    answered: dict[tuple[str | None, str], int] = {}  # (grid, text) -> the FAQ that answers it now
    for grid in {m.grid for m in misses}:
        texts = list(dict.fromkeys(m.normalized or normalize(m.text) for m in misses if m.grid == grid))
        results = index.search_many(texts, k=2, grid=grid, vectors=vectors[[row[t] for t in texts]])
        for text, result in zip(texts, results, strict=True):
            if result.decision == Decision.ANSWER and result.top is not None:
                answered[(grid, text)] = result.top.faq.id
    found = {m.id: answered.get((m.grid, m.normalized or normalize(m.text))) for m in misses}
    republished = _published_at(session, {f for f in found.values() if f is not None})
    retire: dict[int, list[Miss]] = {}
    for miss in misses:
        faq_id = found[miss.id]
        if faq_id is None:
            continue
        if miss.kind == "unhelpful" and faq_id == miss.top_faq_id:
            published = republished.get(faq_id)
            if published is None or published <= miss.created_at:
                continue  # the very answer the customer found unhelpful, unchanged since
        retire.setdefault(faq_id, []).append(miss)
    return sum(_resolve(session, group, "answered", RETIRED_BY, faq_id) for faq_id, group in retire.items())


# --- resolving -----------------------------------------------------------------------------


def _open(session: Session, item_ids: Sequence[int]) -> list[Miss]:
    ids = [int(i) for i in item_ids]
    misses = (
        list(
            session.scalars(
                select(Miss)
                .where(Miss.id.in_(ids), Miss.resolved_at.is_(None))
                .order_by(Miss.created_at.desc(), Miss.id.desc())
            )
        )
        if ids
        else []
    )
    if not misses:
        raise InboxItemsNotFound()
    return misses


def _phrasings(misses: Sequence[Miss]) -> list[str]:
    """The distinct texts, most frequent first, that can serve as questions."""
    out = []
    for group in _groups(misses):
        text = _phrase(group)
        if len(text) <= LIMITS["question"] and SIMILAR_SEPARATOR not in text and not looks_like_formula(text):
            out.append(text)
    return out


def _resolve(session: Session, misses: Sequence[Miss], action: str, actor: Actor, faq_id: int | None) -> int:
    resolution: dict[str, object] = {"action": action, "by": author_of(actor)}
    if faq_id is not None:
        resolution["faq_id"] = faq_id
    result = session.execute(
        update(Miss)
        .where(Miss.id.in_([m.id for m in misses]), Miss.resolved_at.is_(None))
        .values(resolution=resolution, resolved_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    for miss in misses:
        session.expire(miss)
    return rows_changed(result)


def resolve_as_similar(session: Session, item_ids: Sequence[int], faq_id: int, actor: Actor) -> Faq:
    """Add the items' phrasings (those the FAQ lacks) as similar questions of FAQ ``faq_id`` and close
    the items. Published at once when the actor may publish the FAQ (see ``add_similar_questions``)."""
    misses = _open(session, item_ids)
    faq = add_similar_questions(
        session, faq_id, _phrasings(misses)[:MAX_TEXTS], actor, source="inbox", note="来自未解决问题"
    )
    _resolve(session, misses, "similar", actor, faq.id)
    return faq


def resolve_as_draft(session: Session, item_ids: Sequence[int], actor: Actor, answer: str | None = None) -> Faq:
    """Start a new (global) FAQ draft from the items: the most frequent phrasing as the question, the
    others as similar questions; the answer given, else an agent's proposed answer, else a placeholder."""
    misses = _open(session, item_ids)
    phrasings = _phrasings(misses) or [misses[0].text.strip()[: LIMITS["question"]]]
    source = "inbox"
    text = (answer or "").strip()
    if not text:
        proposed = next((m.proposed_answer for m in misses if (m.proposed_answer or "").strip()), None)
        if proposed:
            text, source = proposed.strip(), "agent_answer"
    draft = FaqDraft(
        question=phrasings[0],
        similar_questions=phrasings[1:MAX_TEXTS],
        answer=text[: LIMITS["answer"]] or PLACEHOLDER_ANSWER,
    )
    faq = create_faq(session, draft, actor, note="来自未解决问题", source=source)
    _resolve(session, misses, "draft", actor, faq.id)
    return faq


def dismiss(session: Session, item_ids: Sequence[int], actor: Actor) -> int:
    """Close the items without changing the knowledge base; returns how many were closed."""
    return _resolve(session, _open(session, item_ids), "dismissed", actor, None)
