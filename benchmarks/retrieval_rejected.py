"""Experiments that did not earn a place in the product, kept so their README rows can be reproduced.

Usage (app env), on the AFQMC split of ``evaluate --sample 1300`` (``--dev``: on a dev part of the
training FAQs instead):
    benchmarks/retrieval_rejected.py hardneg  ../shared/data/faq_eval/afqmc_train_faq.jsonl
    benchmarks/retrieval_rejected.py mlp      ../shared/data/faq_eval/afqmc_train_faq.jsonl --dev
    benchmarks/retrieval_rejected.py rerank   ../shared/data/faq_eval/afqmc_train_faq.jsonl
    benchmarks/retrieval_rejected.py rerank-adapted ../shared/data/faq_eval/afqmc_train_faq.jsonl
- hardneg: the linear adapter trained with, besides in-batch negatives, the 8 nearest questions of
  other FAQs (training FAQs and distractors) as negatives; compared with in-batch only.
- mlp: a residual MLP beside the linear adapter (hidden 512 / 1024, dropout 0 / 0.1).
- rerank: gradient-boosted trees re-ranking the top 30 of USE + BM25 (z-scored 0.8 / 0.2), trained on
  the training FAQs cut into index-sized chunks; features: every signal's score, gap to the best and
  rank, overlaps of words and characters, lengths, and the mismatch of the 150 commonest words.
  rerank-adapted: the same on top of the shipped scoring (adapter + hub + BM25), the adapter feature of
  the training chunks cross-fitted on the other half of the training FAQs.
Only FAQs with queries outside the held-out part are ever trained on.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.lab_data import Split, VectorStore, split_cases
from benchmarks.retrieval_lab import make_tasks, ranks_of_gold, zscore
from griddesk.text import lexical_chars, normalize
from knowledge_base.evaluate import training_groups
from knowledge_base.lexical import make_lexical, word_tokens
from knowledge_base.training import make_pair_set


def report(label: str, scores: np.ndarray, gold: np.ndarray) -> None:
    ranks = ranks_of_gold(scores, gold)
    print(f"{label:<40} top-1 {np.mean(ranks == 1):.3f}  top-3 {np.mean(ranks <= 3):.3f}", flush=True)


def train_variant(anchors, partners, extra_negatives=None, hidden=0, dropout=0.0, epochs=6):  # type: ignore[no-untyped-def]
    import torch

    torch.manual_seed(0)
    a_all, b_all = torch.tensor(anchors), torch.tensor(partners)
    dim = a_all.shape[1]
    linear = torch.nn.Linear(dim, dim, bias=False)
    torch.nn.init.eye_(linear.weight)
    modules: list[torch.nn.Module] = [linear]
    mlp = None
    if hidden:
        mlp = torch.nn.Sequential(
            torch.nn.Dropout(dropout), torch.nn.Linear(dim, hidden), torch.nn.GELU(), torch.nn.Linear(hidden, dim)
        )
        torch.nn.init.zeros_(mlp[3].weight)
        torch.nn.init.zeros_(mlp[3].bias)
        modules.append(mlp)

    def f(x, train=False):  # type: ignore[no-untyped-def]
        for m in modules:
            m.train(train)
        y = linear(x) + (mlp(x) if mlp is not None else 0)
        return torch.nn.functional.normalize(y, dim=1)

    optimiser = torch.optim.Adam([p for m in modules for p in m.parameters()], lr=1e-3)
    pool = torch.tensor(extra_negatives) if extra_negatives is not None else None
    n = len(a_all)
    generator = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        hard = None
        if pool is not None:
            with torch.no_grad():
                sims = f(a_all) @ f(pool).T
                # the partner itself may be in the pool: drop near-identical vectors
                sims[sims > 0.999] = -9
                hard = sims.topk(8, dim=1).indices
        for start in range(0, n, 256):
            chosen = order[start : start + 256]
            a, b = f(a_all[chosen], True), f(b_all[chosen], True)
            logits = a @ b.T / 0.05
            if hard is not None:
                negatives = f(pool[hard[chosen]].reshape(-1, dim), True)
                logits = torch.cat([logits, a @ negatives.T / 0.05], dim=1)
            target = torch.arange(len(chosen))
            loss = torch.nn.functional.cross_entropy(logits, target)
            loss = loss + torch.nn.functional.cross_entropy((b @ a.T) / 0.05, target)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return lambda x: f(torch.tensor(x)).detach().numpy()


def adapters(mode: str, split: Split, store: VectorStore) -> None:
    def vec(texts: list[str]) -> np.ndarray:
        return store.vectors("use", texts)

    pairs = make_pair_set(training_groups(split.train), vec)
    task = make_tasks(split)[0]
    rows, queries = vec(task.rows), vec(task.queries)
    lexical = make_lexical("bm25c", task.rows).scores(task.queries)
    variants: list[tuple[str, dict[str, object]]] = [("linear, in-batch negatives", {})]
    if mode == "hardneg":
        pool = vec([normalize(c.question) for c in split.train + split.distractors])
        variants.append(("linear, + 8 hard negatives", {"extra_negatives": pool}))
    else:
        variants += [
            (f"residual MLP {h}, dropout {d}", {"hidden": h, "dropout": d}) for h in (512, 1024) for d in (0.0, 0.1)
        ]
    for label, options in variants:
        f = train_variant(pairs.anchors, pairs.partners, **options)  # type: ignore[arg-type]
        dense = np.clip(f(queries) @ f(rows).T, 0, 1)
        report(f"{label} · dense", dense, task.gold)
        report(f"{label} · + bm25c 0.6", 0.6 * dense + 0.4 * lexical, task.gold)


def rerank(split: Split, store: VectorStore, k: int = 30, adapted: bool = False) -> None:
    """``adapted``: the first stage and a feature use the shipped scoring (adapter + hub + BM25); the
    training chunks get adapters cross-fitted on the other half of the training FAQs."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from knowledge_base.index import hub_scores
    from knowledge_base.training import train_adapter

    def adapter_for(cases):  # type: ignore[no-untyped-def]
        return train_adapter(make_pair_set(training_groups(cases), lambda t: store.vectors("use", t)), "use")

    words_of: dict[str, set[str]] = {}

    def words(text: str) -> set[str]:
        if text not in words_of:
            words_of[text] = set(word_tokens(text))
        return words_of[text]

    counts: collections.Counter[str] = collections.Counter()
    for case in split.train + split.distractors + split.held:
        counts.update(words(normalize(case.question)))
    vocabulary = [w for w, _ in counts.most_common(150)]

    def features(task, adapter=None):  # type: ignore[no-untyped-def]
        rows, queries = store.vectors("use", task.rows), store.vectors("use", task.queries)
        signals = {"use": queries @ rows.T}
        for name in ("tfidf", "bm25c", "bm25w"):
            signals[name] = make_lexical(name, task.rows).scores(task.queries)
        if adapter is not None:
            rows, queries = adapter.apply(rows), adapter.apply(queries)
            dense = np.clip(queries @ rows.T - 0.3 * hub_scores(rows)[None, :], 0, 1)
            signals["adapted"] = dense
            base = 0.6 * dense + 0.4 * signals["bm25c"]
        else:
            base = 0.8 * zscore(signals["use"]) + 0.2 * zscore(signals["bm25c"])
        candidates = np.argsort(-base, axis=1)[:, :k]
        xs, ys = [], []
        for i, query in enumerate(task.queries):
            rows = candidates[i]
            columns = []
            for matrix in [*signals.values(), base]:
                s = matrix[i, rows]
                columns += [s, s - s.max(), np.argsort(np.argsort(-s))]
            qw, qc = words(query), set(lexical_chars(query))
            dw = [words(task.rows[r]) for r in rows]
            dc = [set(lexical_chars(task.rows[r])) for r in rows]
            columns += [
                np.array([len(qw & d) / max(1, len(qw | d)) for d in dw]),
                np.array([len(qc & d) / max(1, len(qc | d)) for d in dc]),
                np.array([len(qw - d) for d in dw]),
                np.array([len(d - qw) for d in dw]),
                np.full(k, len(query)),
                np.array([len(task.rows[r]) for r in rows]),
            ]
            mismatch = np.array([[(w in qw) != (w in d) for w in vocabulary] for d in dw], dtype=np.float32)
            xs.append(np.hstack([np.column_stack(columns), mismatch]))
            ys.append(rows == task.gold[i])
        return np.vstack(xs), np.concatenate(ys), candidates

    train = list(split.train)
    random.Random(1).shuffle(train)
    chunks = [train[i : i + len(split.held)] for i in range(0, len(train), len(split.held))]
    if adapted:
        halves = [train[0::2], train[1::2]]
        parts = []
        for half, other in ((halves[0], halves[1]), (halves[1], halves[0])):
            adapter = adapter_for(other)  # never trained on the chunk it scores
            for i in range(0, len(half), len(split.held)):
                if len(half[i : i + len(split.held)]) > k:  # a last scrap smaller than the candidate list is left out
                    parts.append(features(make_tasks(Split(half[i : i + len(split.held)], [], []))[0], adapter))
    else:
        parts = [features(make_tasks(Split(chunk, [], []))[0]) for chunk in chunks if len(chunk) > k]
    model = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05, max_leaf_nodes=31, random_state=0)
    model.fit(np.vstack([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    task = make_tasks(split)[0]
    x, _, candidates = features(task, adapter_for(train) if adapted else None)
    probability = model.predict_proba(x)[:, 1].reshape(-1, k)
    n = len(task.queries)
    base_scores = np.full((n, len(task.rows)), -1.0)
    reranked = np.full((n, len(task.rows)), -1.0)
    for i in range(n):
        base_scores[i, candidates[i]] = np.linspace(1, 0.5, k)
        reranked[i, candidates[i]] = probability[i]
    report(
        f"base ({'shipped: adapter + hub + BM25' if adapted else 'USE + BM25 z-scored'}), top {k}",
        base_scores,
        task.gold,
    )
    report("re-ranked", reranked, task.gold)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("experiment", choices=["hardneg", "mlp", "rerank", "rerank-adapted"])
    parser.add_argument("file", type=Path)
    parser.add_argument("--sample", type=int, default=1300)
    parser.add_argument("--dev", action="store_true")
    args = parser.parse_args()
    split = split_cases(args.file, args.sample, 0)
    if args.dev:
        dev = {c.faq_id for c in random.Random(1).sample(split.train, len(split.held))}
        split = Split(
            [c for c in split.train if c.faq_id in dev],
            split.distractors,
            [c for c in split.train if c.faq_id not in dev],
        )
    store = VectorStore()
    if args.experiment.startswith("rerank"):
        rerank(split, store, adapted=args.experiment == "rerank-adapted")
    else:
        adapters(args.experiment, split, store)


if __name__ == "__main__":
    main()
