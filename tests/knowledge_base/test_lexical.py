import numpy as np
import pytest

from knowledge_base.lexical import Bm25, CharTfidf, char_tokens, make_lexical, word_tokens

ROWS = ["怎么开发票", "发票抬头开错了怎么办", "客服电话是多少", "怎么修改密码"]


def test_bm25_scores_a_row_repeating_the_query_one_and_a_row_sharing_nothing_zero():
    scorer = make_lexical("bm25c", ROWS)
    scores = scorer.scores(["怎么开发票", "火星"])
    assert scores[0, 0] == pytest.approx(1.0, abs=1e-5)
    assert np.all(scores[1] == 0)
    assert np.all((scores >= 0) & (scores <= 1))


def test_bm25_prefers_rows_sharing_rare_characters_over_common_ones():
    scores = make_lexical("bm25c", ROWS).scores(["发票开错"])[0]
    assert scores.argmax() == 1
    assert scores[2] == 0  # shares no character


def test_word_bm25_and_tfidf_variants_are_available_by_name():
    assert isinstance(make_lexical("bm25w", ROWS), Bm25)
    assert isinstance(make_lexical("tfidf", ROWS), CharTfidf)
    assert make_lexical("tfidf", ["???"]).scores(["发票"]).shape == (1, 1)
    assert make_lexical("bm25c", []).scores(["发票"]).shape == (1, 0)
    with pytest.raises(ValueError, match="unknown"):
        make_lexical("nope", ROWS)


def test_tokenisers_keep_only_lexical_characters():
    assert char_tokens("开发票?") == ["开", "发", "票", "开发", "发票"]
    assert word_tokens("怎么开发票?") == ["怎么", "开发票"]
