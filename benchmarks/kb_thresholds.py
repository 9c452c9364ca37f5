"""Calibrate the answer / suggest / fallback thresholds on a faq_eval file.

Usage: .venv/app/bin/python benchmarks/kb_thresholds.py ../shared/data/faq_eval/afqmc_train_faq.jsonl \\
           [--sample 1300] [--adapter] [--answer 0.8 --suggest 0.5]

Customers also ask what the knowledge base does not hold, so the held-out FAQs are cut in two by
FAQ: the index holds one half, and the queries of both halves are asked (the other half's queries
have no right answer: any "answer" to them is wrong). For every candidate threshold it prints
- answer precision: answers whose top hit is right / all answers, and answer coverage: answers /
  answerable queries;
- suggest: how often the right FAQ is among the three buttons when the bot suggests;
- fallback: share of unanswerable queries that fall back (or get only suggestions).
``--adapter`` first trains an adapter on the FAQs outside the sample (as ``evaluate --train``).
The scores are those of the real index (``KnowledgeIndex``) with the configured encoder.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.lab_data import VectorStore, split_cases
from griddesk.settings import get_settings
from knowledge_base.encoders import get_encoder
from knowledge_base.evaluate import training_groups
from knowledge_base.index import FaqEntry, KnowledgeIndex
from knowledge_base.training import make_pair_set, train_adapter


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", type=Path)
    parser.add_argument("--sample", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--adapter", action="store_true")
    parser.add_argument("--answer", type=float, default=None, help="also report this pair of thresholds")
    parser.add_argument("--suggest", type=float, default=None)
    parser.add_argument("--margin", type=float, default=None)
    args = parser.parse_args()
    settings = get_settings()
    encoder = get_encoder(settings.encoder)
    store = VectorStore()
    split = split_cases(args.file, args.sample, args.seed)
    held = list(split.held)
    random.Random(args.seed + 7).shuffle(held)
    inside, outside = held[: len(held) // 2], held[len(held) // 2 :]

    def encode_rows(texts: list[str]) -> np.ndarray:
        return store.vectors(settings.encoder, texts)

    adapter = None
    if args.adapter:
        adapter = train_adapter(make_pair_set(training_groups(split.train), encode_rows), encoder.name)
    entries = [FaqEntry(i, c.faq_id, c.question, c.answer) for i, c in enumerate(inside, start=1)]
    index = KnowledgeIndex(entries, encode_rows, encode_rows, settings.kb_dense_weight, adapter=adapter)
    asked = [(p, c.faq_id) for c in inside for p in c.paraphrases] + [(p, None) for c in outside for p in c.paraphrases]
    top_score, second, right1, right3 = [], [], [], []
    for start in range(0, len(asked), 256):
        part = asked[start : start + 256]
        for (_, gold), result in zip(part, index.search_many([q for q, _ in part], k=3), strict=True):
            ids = [h.faq.external_id for h in result.hits]
            top_score.append(result.hits[0].score if result.hits else 0.0)
            second.append(result.hits[1].score if len(result.hits) > 1 else 0.0)
            right1.append(gold is not None and ids[:1] == [gold])
            right3.append(gold is not None and gold in ids)
    score, r1, r3 = np.asarray(top_score), np.asarray(right1), np.asarray(right3)
    margin = score - np.asarray(second)
    answerable = np.asarray([g is not None for _, g in asked])
    print(
        f"{args.file.name} sample={args.sample} adapter={args.adapter} encoder={encoder.name}: "
        f"{len(inside)} FAQs in the index, {answerable.sum()} answerable + {(~answerable).sum()} unanswerable queries"
    )
    print(
        f"overall top-1 {r1[answerable].mean():.3f}, top-3 {r3[answerable].mean():.3f}; "
        f"top score quantiles answerable {np.quantile(score[answerable], [0.1, 0.5, 0.9]).round(3)}, "
        f"unanswerable {np.quantile(score[~answerable], [0.1, 0.5, 0.9]).round(3)}"
    )
    print(
        "answer threshold: precision of answers (answerable queries only / with the unanswerable half too), "
        "coverage (answerable queries answered), unanswerable queries answered anyway"
    )
    print(f"{'answer ≥':>9}{'precision':>11}{'prec. mixed':>12}{'coverage':>10}{'unanswerable answered':>23}")
    answer_grid = [0.6, 0.65, 0.7, 0.72, 0.75, 0.8, 0.85, 0.9, 0.95] + ([args.answer] if args.answer else [])
    for a in answer_grid:
        answer = score >= a
        precision = r1[answer & answerable].mean() if (answer & answerable).any() else float("nan")
        mixed = r1[answer].mean() if answer.any() else float("nan")
        coverage = (answer & answerable).sum() / answerable.sum()
        print(f"{a:>9.2f}{precision:>11.3f}{mixed:>12.3f}{coverage:>10.3f}{answer[~answerable].mean():>23.3f}")
    print("answer only when the top hit also leads the second by a margin (ambiguous near-duplicates get the menu):")
    print(
        f"{'answer ≥':>9}{'margin ≥':>9}{'precision':>11}{'prec. mixed':>12}{'coverage':>10}{'unanswerable answered':>23}"
    )
    for a in sorted({0.6, 0.65, 0.7, 0.72, 0.75, 0.8} | ({args.answer} if args.answer else set())):
        for m in (0.0, 0.03, 0.05, 0.08, 0.1, 0.15, 0.2) + ((args.margin,) if args.margin is not None else ()):
            answer = (score >= a) & (margin >= m)
            precision = r1[answer & answerable].mean() if (answer & answerable).any() else float("nan")
            mixed = r1[answer].mean() if answer.any() else float("nan")
            coverage = (answer & answerable).sum() / answerable.sum()
            print(
                f"{a:>9.2f}{m:>9.2f}{precision:>11.3f}{mixed:>12.3f}{coverage:>10.3f}{answer[~answerable].mean():>23.3f}"
            )
    a = args.answer if args.answer else 0.72
    print(
        f"suggest threshold (answer at {a:.2f}): answerable queries suggested, right FAQ among the three buttons; "
        "unanswerable queries that fall back"
    )
    print(
        f"{'suggest ≥':>9}{'suggested':>11}{'top-3 right':>12}{'answerable → fallback':>23}{'unanswerable → fallback':>25}"
    )
    for sg in sorted({0.35, 0.4, 0.45, 0.5, 0.55, 0.6} | ({args.suggest} if args.suggest else set())):
        suggest = (score >= sg) & (score < a)
        fallback = score < sg
        top3 = r3[suggest & answerable].mean() if (suggest & answerable).any() else float("nan")
        print(
            f"{sg:>9.2f}{(suggest & answerable).sum() / answerable.sum():>11.3f}{top3:>12.3f}"
            f"{fallback[answerable].mean():>23.3f}{fallback[~answerable].mean():>25.3f}"
        )


if __name__ == "__main__":
    main()
