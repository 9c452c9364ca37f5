"""Retrieval evaluation on a FAQ set (protocol of ../shared/data/faq_eval/README.md).

Each line of the file is ``{"faq_id", "question", "answer", "paraphrases": [...]}``. The
``question`` and ``answer`` of every FAQ go through the real importer into a database of their own
(kept under ``GRIDDESK_DATA_DIR/eval/`` so its embedding cache makes re-runs fast); every paraphrase
is then asked through the real index. Reported: top-1, top-3 and MRR@10 over the FAQs that have
queries only, and over the whole file (with distractors), plus queries per second.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from griddesk.db import Base, make_engine
from knowledge_base.encoders import Encoder
from knowledge_base.importer import FaqRow, ImportFileError, validate_record, write_rows
from knowledge_base.index import KnowledgeIndex, Thresholds
from knowledge_base.search import build_index, load_entries

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
                raise ImportFileError(f"第 {number} 行不是评测格式 ({exc})") from None
    return cases


def score_index(
    index: KnowledgeIndex, cases: list[EvalCase], setting: str, batch: int = 256,
    progress: Callable[[int], object] | None = None,
) -> Scores:
    queries = [(p, case.faq_id) for case in cases for p in case.paraphrases]
    top1 = top3 = 0
    reciprocal = 0.0
    started = time.perf_counter()
    for start in range(0, len(queries), batch):
        part = queries[start : start + batch]
        results = index.search_many([q for q, _ in part], k=MRR_DEPTH)
        for (_, gold), result in zip(part, results, strict=True):
            ranked = [hit.faq.external_id for hit in result.hits]
            if gold in ranked:
                rank = ranked.index(gold) + 1
                top1 += rank == 1
                top3 += rank <= 3
                reciprocal += 1.0 / rank
        if progress is not None:
            progress(len(part))
    elapsed = time.perf_counter() - started
    n = max(len(queries), 1)
    return Scores(setting, len(index), len(queries), top1 / n, top3 / n, reciprocal / n,
                  len(queries) / elapsed if elapsed > 0 else 0.0)


def evaluate(
    path: Path,
    encoder: Encoder,
    db_path: Path,
    dense_weight: float,
    thresholds: Thresholds,
    progress_factory: Callable[[str, int], Callable[[int], object]] | None = None,
    sample: int | None = None,
    seed: int = 0,
) -> list[Scores]:
    """Import ``path`` into the database at ``db_path`` and score both settings.

    ``sample`` keeps that many FAQs with queries (drawn with ``seed``) and every distractor, to
    compare with figures measured on a held-out split of that size.
    """
    cases = load_cases(path)
    if sample is not None:
        queried = [c for c in cases if c.paraphrases]
        chosen = {c.faq_id for c in random.Random(seed).sample(queried, min(sample, len(queried)))}
        cases = [c for c in cases if c.faq_id in chosen or not c.paraphrases]
    rows: list[FaqRow] = [
        validate_record(i, {"question": c.question, "answer": c.answer, "external_id": c.faq_id})
        for i, c in enumerate(cases, start=1)
    ]
    db_path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{db_path}")
    Base.metadata.create_all(engine)

    def tick(label: str, total: int) -> Callable[[int], object] | None:
        return progress_factory(label, total) if progress_factory else None

    with Session(engine) as session:
        write_rows(session, rows, progress=tick("导入", len(rows)))
        session.commit()
        in_set = {c.faq_id for c in cases}  # the database may hold FAQs of an earlier, larger run
        entries = [e for e in load_entries(session) if e.external_id in in_set]
        with_queries = {c.faq_id for c in cases if c.paraphrases}
        texts = sum(len(e.texts()) for e in entries)
        full = build_index(session, encoder, entries, dense_weight, thresholds, tick("编码", texts))
        held = KnowledgeIndex(
            [e for e in entries if e.external_id in with_queries],
            full.row_vectors,
            encoder.encode,
            dense_weight,
            thresholds,
        )
    engine.dispose()
    queries = sum(len(c.paraphrases) for c in cases)
    return [
        score_index(held, cases, "without distractors", progress=tick("检索 (无干扰项)", queries)),
        score_index(full, cases, "with distractors", progress=tick("检索 (含干扰项)", queries)),
    ]


def format_scores(path: Path, encoder_name: str, scores: list[Scores]) -> str:
    lines = [f"{path.name} · encoder {encoder_name}",
             f"{'setting':<22}{'FAQs':>8}{'queries':>9}{'top-1':>8}{'top-3':>8}{'MRR@10':>8}{'q/s':>8}"]
    for s in scores:
        lines.append(f"{s.setting:<22}{s.faqs:>8}{s.queries:>9}{s.top1:>8.3f}{s.top3:>8.3f}{s.mrr:>8.3f}{s.qps:>8.0f}")
    return "\n".join(lines)


def scores_json(scores: list[Scores]) -> str:
    return json.dumps([asdict(s) for s in scores], ensure_ascii=False)
