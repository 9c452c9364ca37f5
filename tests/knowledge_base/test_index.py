import numpy as np
import pytest

from knowledge_base.index import Decision, FaqEntry, KnowledgeIndex, Thresholds
from tests.encoders import HashingEncoder


def entries() -> list[FaqEntry]:
    return [
        FaqEntry(1, "hours", "你们的服务时间是几点到几点", "每天 8:00-22:00", ("客服几点上班", "营业时间")),
        FaqEntry(2, "invoice", "怎么开发票", "公众号申请", ("如何开具发票", "发票怎么申请")),
        FaqEntry(3, "phone", "客服电话是多少", "400-800-1234", ("你们的电话号码",)),
    ]


def make_index(items=None, **kwargs) -> KnowledgeIndex:
    encoder = HashingEncoder()
    return KnowledgeIndex(items or entries(), encoder.encode, encoder.encode, **kwargs)


def test_exact_similar_question_scores_one_and_is_answered():
    result = make_index(hub_weight=0.0).search("如何开具发票", k=3)
    assert result.top.faq.external_id == "invoice"
    assert result.top.score == pytest.approx(1.0, abs=1e-5)
    assert result.decision is Decision.ANSWER


def test_traditional_query_matches_simplified_faq():
    result = make_index().search("你們的電話號碼", k=1)
    assert result.top.faq.external_id == "phone"
    assert result.top.matched == "你们的电话号码"


def test_each_faq_appears_once_with_its_best_row():
    result = make_index().search("发票", k=3)
    ids = [hit.faq.id for hit in result.hits]
    assert len(ids) == len(set(ids)) == 3
    assert result.hits[0].faq.external_id == "invoice"
    assert result.hits[0].score >= result.hits[1].score >= result.hits[2].score


def test_unrelated_question_falls_back():
    index = make_index(thresholds=Thresholds(answer=0.8, suggest=0.5))
    assert index.search("火星上有没有水", k=3).decision is Decision.FALLBACK


def test_decision_bands_follow_the_thresholds():
    thresholds = Thresholds(answer=0.7, suggest=0.4)
    assert thresholds.decide(0.7) is Decision.ANSWER
    assert thresholds.decide(0.69) is Decision.SUGGEST
    assert thresholds.decide(0.4) is Decision.SUGGEST
    assert thresholds.decide(0.39) is Decision.FALLBACK
    assert thresholds.decide(None) is Decision.FALLBACK


def test_fused_score_weights_dense_and_lexical():
    index = make_index(dense_weight=1.0, hub_weight=0.0)
    hit = index.search("发票怎么开", k=1).top
    assert hit.score == pytest.approx(hit.dense, abs=1e-5)
    index = make_index(dense_weight=0.0)
    hit = index.search("发票怎么开", k=1).top
    assert hit.score == pytest.approx(hit.lexical, abs=1e-5)


def test_grid_faq_overrides_the_global_one_for_that_grid_only():
    items = [
        *entries(),
        FaqEntry(
            9, "hours-cd", "你们的服务时间是几点到几点", "成都网格: 每天 9:00-21:00", grid="chengdu", overrides_id=1
        ),
    ]
    index = make_index(items)
    assert index.search("你们的服务时间是几点到几点", k=1).top.faq.id == 1
    assert index.search("你们的服务时间是几点到几点", k=1, grid="chengdu").top.faq.id == 9
    assert {h.faq.id for h in index.search("服务时间", k=5, grid="chengdu").hits} == {9, 2, 3}
    assert 9 not in {h.faq.id for h in index.search("服务时间", k=5, grid="beijing").hits}


def test_search_many_ranks_exactly_like_search():
    index = make_index()
    queries = ["发票", "电话多少", "几点上班"]
    for single, batched in zip([index.search(q, k=3) for q in queries], index.search_many(queries, k=3), strict=True):
        assert [(h.faq.id, round(h.score, 6)) for h in single.hits] == [
            (h.faq.id, round(h.score, 6)) for h in batched.hits
        ]


def test_k_larger_than_the_index_returns_every_faq():
    assert len(make_index().search("发票", k=10).hits) == 3


def test_empty_index_falls_back_without_hits():
    encoder = HashingEncoder()
    index = KnowledgeIndex([], encoder.encode, encoder.encode)
    result = index.search("发票", k=3)
    assert result.decision is Decision.FALLBACK and result.hits == []


def test_many_rows_of_one_faq_do_not_crowd_out_the_others():
    many = FaqEntry(1, "a", "发票问题", "x", tuple(f"发票问题{i}" for i in range(100)))
    other = FaqEntry(2, "b", "发票抬头", "y")
    index = make_index([many, other])
    assert [h.faq.id for h in index.search("发票", k=2).hits] == [1, 2]


def test_punctuation_only_query_is_handled():
    result = make_index().search("???", k=3)
    assert result.decision in set(Decision)
    assert all(np.isfinite(h.score) for h in result.hits)


class TableEncoder:
    """Vectors given by hand, for tests about what the index does with them."""

    name = "table"

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table = table
        self.dim = len(next(iter(table.values())))

    def encode(self, texts):
        out = np.asarray([self.table[t] for t in texts], dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_hub_scores_single_out_the_row_close_to_every_other_faq():
    from knowledge_base.index import hub_scores

    vectors = np.asarray([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    hub = hub_scores(vectors, np.arange(4), neighbours=2)
    assert hub.argmax() == 3 and abs(float(hub.mean())) < 1e-6
    # rows of the same FAQ are not each other's neighbours
    same_faq = hub_scores(vectors, np.asarray([0, 0, 0, 0]), neighbours=2)
    assert np.allclose(same_faq, 0.0)


def test_the_hub_correction_lets_a_specific_faq_beat_a_generic_one():
    table = {
        "generic": [1.0, 1.0, 1.0, 1.0],
        "a": [1.0, 0.0, 0.0, 0.0],
        "b": [0.0, 1.0, 0.0, 0.0],
        "c": [0.0, 0.0, 1.0, 0.0],
        "query": [1.0, 0.55, 0.55, 0.55],
    }
    encoder = TableEncoder(table)
    items = [FaqEntry(i, name, name, name) for i, name in enumerate(["generic", "a", "b", "c"], start=1)]
    plain = KnowledgeIndex(items, encoder.encode, encoder.encode, dense_weight=1.0, hub_weight=0.0)
    corrected = KnowledgeIndex(items, encoder.encode, encoder.encode, dense_weight=1.0, hub_weight=1.0)
    assert plain.search("query", k=1).top.faq.external_id == "generic"
    assert corrected.search("query", k=1).top.faq.external_id == "a"


def test_an_adapter_maps_rows_and_query_alike_while_row_vectors_stay_the_encoders():
    from knowledge_base.adapter import Adapter

    table = {"x": [1.0, 0.2], "y": [0.2, 1.0], "query": [0.6, 0.5]}
    encoder = TableEncoder(table)
    items = [FaqEntry(1, "x", "x", "x"), FaqEntry(2, "y", "y", "y")]
    bare = KnowledgeIndex(items, encoder.encode, encoder.encode, dense_weight=1.0, hub_weight=0.0)
    assert bare.search("query", k=1).top.faq.external_id == "x"
    stretch_second = Adapter("table", np.diag([1.0, 3.0]).astype(np.float32))
    adapted = KnowledgeIndex(
        items, encoder.encode, encoder.encode, dense_weight=1.0, hub_weight=0.0, adapter=stretch_second
    )
    assert adapted.search("query", k=1).top.faq.external_id == "y"
    assert np.allclose(adapted.row_vectors(["x"]), encoder.encode(["x"]))


def test_answer_needs_a_lead_over_the_second_faq():
    thresholds = Thresholds(answer=0.7, suggest=0.4, margin=0.1)
    assert thresholds.decide(0.9, 0.85) is Decision.SUGGEST
    assert thresholds.decide(0.9, 0.79) is Decision.ANSWER
    assert thresholds.decide(0.9) is Decision.ANSWER


def test_two_near_identical_faqs_get_the_menu_even_when_only_one_hit_is_asked_for():
    items = [
        FaqEntry(1, "a", "怎么开发票", "a"),
        FaqEntry(2, "b", "怎么开发票呢", "b"),
        FaqEntry(3, "c", "客服电话", "c"),
    ]
    strict = make_index(items, thresholds=Thresholds(answer=0.7, suggest=0.4, margin=0.1))
    result = strict.search("怎么开发票", k=1)
    assert len(result.hits) == 1 and result.decision is Decision.SUGGEST
    lenient = make_index(items, thresholds=Thresholds(answer=0.7, suggest=0.4, margin=0.0))
    assert lenient.search("怎么开发票", k=1).decision is Decision.ANSWER
