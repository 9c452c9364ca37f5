"""Learning a vector adapter from labelled paraphrases (the knowledge base's own data).

Training material is a list of *groups*: the texts of one FAQ that mean the same (its standard
question, its similar questions, and later questions an agent mapped to it from the unanswered
inbox or that customers marked 有帮助). Each non-first text is paired with the group's first text;
the adapter is a square matrix ``W``, started at the identity, trained with an in-batch contrastive
loss (InfoNCE, both directions) so that ``normalise(W a)`` lies closest to ``normalise(W b)`` for
the pair's partner among every other text of the batch, and kept near the identity by an L2 pull
(with a few hundred pairs it barely moves; with thousands it learns the domain). Texts of the same
group never count as each other's negatives.

torch is imported only here, when training; applying an adapter is numpy only (``adapter.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from knowledge_base.adapter import Adapter


@dataclass(frozen=True)
class TrainingConfig:
    epochs: int = 6
    min_steps: int = 30  # small knowledge bases still get a few updates (more only overfits them)
    batch_size: int = 256
    learning_rate: float = 1e-3
    temperature: float = 0.05
    identity_pull: float = 1e-3  # weight of ||W - I||^2
    seed: int = 0


@dataclass(frozen=True)
class PairSet:
    """Vectors of (text, partner) pairs and the group of each pair."""

    anchors: np.ndarray
    partners: np.ndarray
    groups: np.ndarray

    def __len__(self) -> int:
        return int(self.anchors.shape[0])


def pairs_of_groups(groups: Sequence[Sequence[str]]) -> tuple[list[str], list[str], list[int]]:
    """Every non-first text of a group paired with its first text (the standard question)."""
    anchors, partners, ids = [], [], []
    for number, texts in enumerate(groups):
        texts = list(dict.fromkeys(t for t in texts if t.strip()))
        for text in texts[1:]:
            anchors.append(text)
            partners.append(texts[0])
            ids.append(number)
    return anchors, partners, ids


def make_pair_set(groups: Sequence[Sequence[str]], encode: Callable[[list[str]], np.ndarray]) -> PairSet:
    anchors, partners, ids = pairs_of_groups(groups)
    texts = list(dict.fromkeys(anchors + partners))
    vectors = encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    row = {t: i for i, t in enumerate(texts)}
    return PairSet(
        vectors[[row[t] for t in anchors]] if anchors else vectors[:0],
        vectors[[row[t] for t in partners]] if partners else vectors[:0],
        np.asarray(ids, dtype=np.int64),
    )


def train_adapter(
    pairs: PairSet,
    encoder_name: str,
    config: TrainingConfig = TrainingConfig(),
    progress: Callable[[int, float], object] | None = None,
) -> Adapter:
    """Fit ``W`` on ``pairs``; ``progress(epoch, loss)`` is told after every epoch."""
    import torch

    if len(pairs) == 0:
        raise ValueError("no training pairs")
    generator = torch.Generator().manual_seed(config.seed)
    anchors = torch.from_numpy(np.ascontiguousarray(pairs.anchors, dtype=np.float32))
    partners = torch.from_numpy(np.ascontiguousarray(pairs.partners, dtype=np.float32))
    groups = torch.from_numpy(pairs.groups)
    dim = anchors.shape[1]
    identity = torch.eye(dim)
    weight = torch.nn.Parameter(identity.clone())
    optimiser = torch.optim.Adam([weight], lr=config.learning_rate)
    n = len(pairs)
    batch = min(config.batch_size, n)
    steps_per_epoch = math.ceil(n / batch)
    epochs = max(config.epochs, math.ceil(config.min_steps / steps_per_epoch))
    for epoch in range(epochs):
        order = torch.randperm(n, generator=generator)
        total = 0.0
        for start in range(0, n, batch):
            chosen = order[start : start + batch]
            if len(chosen) < 2:
                continue
            a = torch.nn.functional.normalize(anchors[chosen] @ weight.T, dim=1)
            b = torch.nn.functional.normalize(partners[chosen] @ weight.T, dim=1)
            logits = a @ b.T / config.temperature
            g = groups[chosen]
            same = (g[:, None] == g[None, :]) & ~torch.eye(len(chosen), dtype=torch.bool)
            logits = logits.masked_fill(same, float("-inf"))
            target = torch.arange(len(chosen))
            loss = torch.nn.functional.cross_entropy(logits, target)
            loss = loss + torch.nn.functional.cross_entropy(logits.T, target)
            loss = loss + config.identity_pull * ((weight - identity) ** 2).sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach())
        if progress is not None:
            progress(epoch, total / steps_per_epoch)
    return Adapter(encoder_name, weight.detach().numpy().astype(np.float32))
