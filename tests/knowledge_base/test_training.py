"""The adapter trainer on synthetic vectors: paraphrases the bare encoder keeps apart come together."""

import numpy as np

from knowledge_base.training import PairSet, TrainingConfig, make_pair_set, pairs_of_groups, train_adapter


def test_each_paraphrase_is_paired_with_the_standard_question_of_its_group():
    anchors, partners, groups = pairs_of_groups(
        [["标准问", "相似问一", "相似问二", "相似问一"], ["孤单问题"], ["b", "b2"]]
    )
    assert anchors == ["相似问一", "相似问二", "b2"]
    assert partners == ["标准问", "标准问", "b"]
    assert groups == [0, 0, 2]


def distorted_pairs(n: int, dim: int, seed: int) -> PairSet:
    """Partners are the anchors seen through a fixed distortion that drowns their shared part."""
    rng = np.random.default_rng(seed)
    meaning = rng.normal(size=(n, dim)).astype(np.float32)
    noise_a = rng.normal(size=(n, dim)).astype(np.float32)
    noise_b = rng.normal(size=(n, dim)).astype(np.float32)
    # the first 8 dimensions carry the meaning, the rest is loud noise
    anchors, partners = noise_a * 3, noise_b * 3
    anchors[:, :8] = meaning[:, :8]
    partners[:, :8] = meaning[:, :8]
    norm = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)  # noqa: E731
    return PairSet(norm(anchors), norm(partners), np.arange(n))


def nearest_partner_accuracy(pairs: PairSet, matrix: np.ndarray) -> float:
    a = pairs.anchors @ matrix.T
    b = pairs.partners @ matrix.T
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    return float(((a @ b.T).argmax(axis=1) == np.arange(len(pairs))).mean())


def test_training_learns_what_the_paraphrases_share_and_generalises_to_unseen_pairs():
    train, test = distorted_pairs(600, 32, seed=1), distorted_pairs(200, 32, seed=2)
    adapter = train_adapter(train, "synthetic", TrainingConfig(epochs=40, learning_rate=1e-2))
    assert adapter.encoder == "synthetic" and adapter.matrix.shape == (32, 32)
    before = nearest_partner_accuracy(test, np.eye(32, dtype=np.float32))
    after = nearest_partner_accuracy(test, adapter.matrix)
    assert before < 0.6 and after > before + 0.3


def test_texts_of_one_faq_are_never_each_others_negatives():
    texts = {"q": [1.0, 0.0], "p1": [0.9, 0.1], "p2": [0.8, 0.2], "x": [0.0, 1.0], "y": [0.1, 0.9]}
    pairs = make_pair_set([["q", "p1", "p2"], ["x", "y"]], lambda ts: np.asarray([texts[t] for t in ts], np.float32))
    assert len(pairs) == 3 and pairs.groups.tolist() == [0, 0, 1]
    adapter = train_adapter(pairs, "tiny", TrainingConfig(epochs=5, min_steps=5))
    assert np.isfinite(adapter.matrix).all()
