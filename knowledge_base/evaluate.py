"""Retrieval evaluation on a FAQ set (protocol of ../shared/data/faq_eval/README.md).

Each line of the file is ``{"faq_id", "question", "answer", "paraphrases": [...]}``. The
``question`` and ``answer`` of every FAQ go through the real importer into a database of their own
(kept under ``GRIDDESK_DATA_DIR/eval/`` so its embedding cache makes re-runs fast); every paraphrase
is then asked through the real index. Reported: top-1, top-3 and MRR@10 over the FAQs that have
queries only, and over the whole file (with distractors), plus queries per second.

With ``train`` the same settings are scored again with a trained adapter, never trained on the
queries it is scored on: with ``sample``, the adapter learns from the FAQs with queries outside the
sample (question + paraphrases, as ``python -m knowledge_base train`` learns from standard and
similar questions); on the whole file, the FAQs with queries are cut into ``folds`` parts by FAQ and
each part's queries are asked with an adapter trained on the other parts (cross-fitting).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, inspect
from sqlalchemy.orm import Session

from griddesk.db import Base, make_engine
from griddesk.text import normalize
from knowledge_base.encoders import Encoder, encode_cached
from knowledge_base.import_formats import ImportFileError
from knowledge_base.importer import FaqRow, validate_record, write_rows
from knowledge_base.index import KnowledgeIndex, Thresholds
from knowledge_base.search import build_index, load_entries
from knowledge_base.training import TrainingConfig, make_pair_set, train_adapter

MRR_DEPTH = 10


@dataclass(frozen=True)
class EvalCase:
    faq_id: str
    question: str
    answer: str
    paraphrases: tuple[str, ...]


@dataclass(frozen=True)
class Scores:
    setting: str
    faqs: int
    queries: int
    top1: float
    top3: float
    mrr: float
    qps: float


def load_cases(path: Path) -> list[EvalCase]:
    cases = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                cases.append(
                    EvalCase(
                        faq_id=str(record["faq_id"]),
                        question=str(record["question"]),
                        answer=str(record["answer"]),
                        paraphrases=tuple(str(p) for p in record.get("paraphrases") or ()),
                    )
                )
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ImportFileError(f"第 {number} 行不是评测格式（{exc}）") from None
    return cases


@dataclass
class _Tally:
    """Ranks of the gold FAQ (0 = not in the top MRR_DEPTH) and the time spent searching."""

    ranks: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def scores(self, setting: str, faqs: int) -> Scores:
        n = max(len(self.ranks), 1)
        return Scores(
            setting,
            faqs,
            len(self.ranks),
            sum(r == 1 for r in self.ranks) / n,
            sum(1 <= r <= 3 for r in self.ranks) / n,
            sum(1.0 / r for r in self.ranks if r) / n,
            len(self.ranks) / self.seconds if self.seconds > 0 else 0.0,
        )


def _rank_into(
    tally: _Tally,
    index: KnowledgeIndex,
    cases: list[EvalCase],
    batch: int = 256,
    progress: Callable[[int], object] | None = None,
) -> None:
    queries = [(p, case.faq_id) for case in cases for p in case.paraphrases]
    started = time.perf_counter()
    for start in range(0, len(queries), batch):
        part = queries[start : start + batch]
        results = index.search_many([q for q, _ in part], k=MRR_DEPTH)
        for (_, gold), result in zip(part, results, strict=True):
            ranked = [hit.faq.external_id for hit in result.hits]
            tally.ranks.append(ranked.index(gold) + 1 if gold in ranked else 0)
        if progress is not None:
            progress(len(part))
    tally.seconds += time.perf_counter() - started


def score_index(
    index: KnowledgeIndex,
    cases: list[EvalCase],
    setting: str,
    batch: int = 256,
    progress: Callable[[int], object] | None = None,
) -> Scores:
    tally = _Tally()
    _rank_into(tally, index, cases, batch, progress)
    return tally.scores(setting, len(index))


def training_groups(cases: list[EvalCase]) -> list[list[str]]:
    """Each FAQ's question and paraphrases, normalised as the index sees them."""
    return [[normalize(c.question), *(normalize(p) for p in c.paraphrases)] for c in cases if c.paraphrases]


def folds_of(cases: list[EvalCase], folds: int, seed: int = 0) -> list[list[EvalCase]]:
    order = [c for c in cases if c.paraphrases]
    random.Random(seed).shuffle(order)
    return [order[i::folds] for i in range(folds)]


def evaluate(
    path: Path,
    encoder: Encoder,
    db_path: Path,
    dense_weight: float,
    thresholds: Thresholds,
    progress_factory: Callable[[str, int], Callable[[int], object]] | None = None,
    sample: int | None = None,
    seed: int = 0,
    train: bool = False,
    folds: int = 5,
    config: TrainingConfig | None = None,
) -> list[Scores]:
    """Import ``path`` into the database at ``db_path`` and score both settings.

    ``sample`` keeps that many FAQs with queries (drawn with ``seed``) and every distractor, to
    compare with figures measured on a held-out split of that size. ``train`` adds both settings
    with a trained adapter (see the module docstring).
    """
    cases = load_cases(path)
    outside: list[EvalCase] = []
    if sample is not None:
        queried = [c for c in cases if c.paraphrases]
        chosen = {c.faq_id for c in random.Random(seed).sample(queried, min(sample, len(queried)))}
        outside = [c for c in queried if c.faq_id not in chosen]
        cases = [c for c in cases if c.faq_id in chosen or not c.paraphrases]
    rows: list[FaqRow] = [
        validate_record(i, {"question": c.question, "answer": c.answer, "external_id": c.faq_id})
        for i, c in enumerate(cases, start=1)
    ]
    engine = cache_engine(db_path)

    def tick(label: str, total: int) -> Callable[[int], object] | None:
        return progress_factory(label, total) if progress_factory else None

    with Session(engine) as session:
        write_rows(session, rows, progress=tick("导入", len(rows)))
        session.commit()
        in_set = {c.faq_id for c in cases}  # the database may hold FAQs of an earlier, larger run
        entries = [e for e in load_entries(session) if e.external_id in in_set]
        with_queries = {c.faq_id for c in cases if c.paraphrases}
        texts = sum(len(e.texts()) for e in entries)
        full = build_index(session, encoder, entries, dense_weight, thresholds, tick("编码", texts), adapter=None)
        held_entries = [e for e in entries if e.external_id in with_queries]
        held = KnowledgeIndex(held_entries, full.row_vectors, encoder.encode, dense_weight, thresholds)
        queries = sum(len(c.paraphrases) for c in cases)
        scores = [
            score_index(held, cases, "without distractors", progress=tick("检索（无干扰项）", queries)),
            score_index(full, cases, "with distractors", progress=tick("检索（含干扰项）", queries)),
        ]
        if train:
            config = config or TrainingConfig()

            def encode(texts: list[str]) -> np.ndarray:
                return encode_cached(session, encoder, texts)

            parts = (
                [(cases, outside)]
                if sample is not None
                else [
                    (part, [c for c in cases if c.paraphrases and c.faq_id not in asked_ids])
                    for part in folds_of(cases, folds, seed)
                    for asked_ids in [{c.faq_id for c in part}]
                ]
            )
            tallies = [_Tally(), _Tally()]
            for number, (asked, learn_from) in enumerate(parts, start=1):
                adapter = train_adapter(make_pair_set(training_groups(learn_from), encode), encoder.name, config)
                session.commit()
                label = f"检索（适配器 {number}/{len(parts)}）"
                for tally, index_entries in zip(tallies, (held_entries, entries), strict=True):
                    index = KnowledgeIndex(
                        index_entries, full.row_vectors, encoder.encode, dense_weight, thresholds, adapter=adapter
                    )
                    _rank_into(tally, index, asked, progress=tick(label, sum(len(c.paraphrases) for c in asked)))
            scores += [
                tallies[0].scores("without distr. · adapter", len(held_entries)),
                tallies[1].scores("with distr. · adapter", len(entries)),
            ]
    engine.dispose()
    return scores


def format_scores(path: Path, encoder_name: str, scores: list[Scores]) -> str:
    lines = [
        f"{path.name} · encoder {encoder_name}",
        f"{'setting':<26}{'FAQs':>8}{'queries':>9}{'top-1':>8}{'top-3':>8}{'MRR@10':>8}{'q/s':>8}",
    ]
    for s in scores:
        lines.append(f"{s.setting:<26}{s.faqs:>8}{s.queries:>9}{s.top1:>8.3f}{s.top3:>8.3f}{s.mrr:>8.3f}{s.qps:>8.0f}")
    return "\n".join(lines)


def scores_json(scores: list[Scores]) -> str:
    return json.dumps([asdict(s) for s in scores], ensure_ascii=False)


def cache_engine(db_path: Path) -> Engine:
    """A SQLite cache database for evaluations and benchmarks, with today's schema.

    These files are built with ``create_all`` (not migrated): one made by an older version of the
    schema is rebuilt, keeping its sentence vectors (``kb_embedding``), which are the costly part.
    """
    db_path.parent.mkdir(parents=True, exist_ok=True)
    if db_path.exists() and _schema_drifted(db_path):
        old = db_path.with_name(db_path.name + ".old")
        db_path.replace(old)
        engine = make_engine(f"sqlite:///{db_path}")
        Base.metadata.create_all(engine)
        with engine.begin() as connection:
            connection.exec_driver_sql("ATTACH DATABASE ? AS old", (str(old),))
            connection.exec_driver_sql("INSERT OR IGNORE INTO kb_embedding SELECT * FROM old.kb_embedding")
        with engine.connect() as connection:
            connection.exec_driver_sql("DETACH DATABASE old")
        old.unlink()
        return engine
    engine = make_engine(f"sqlite:///{db_path}")
    Base.metadata.create_all(engine)
    return engine


def _schema_drifted(db_path: Path) -> bool:
    engine = make_engine(f"sqlite:///{db_path}")
    try:
        inspector = inspect(engine)
        existing = set(inspector.get_table_names())
        for table in Base.metadata.sorted_tables:
            if table.name in existing and {c["name"] for c in inspector.get_columns(table.name)} != set(table.c.keys()):
                return True
        return False
    finally:
        engine.dispose()
