import json

import pytest

from knowledge_base.evaluate import evaluate, format_scores
from knowledge_base.index import Thresholds
from tests.encoders import HashingEncoder


@pytest.fixture
def eval_file(tmp_path):
    records = [
        {"faq_id": "A", "question": "怎么开发票", "answer": "a", "paraphrases": ["怎么开发票"]},
        {"faq_id": "B", "question": "客服电话是多少", "answer": "b", "paraphrases": ["客服电话是多少"]},
        # C's query is B's question word for word: B ranks first, C cannot.
        {"faq_id": "C", "question": "营业时间", "answer": "c", "paraphrases": ["客服电话是多少"]},
        {"faq_id": "D", "question": "怎么注销账号", "answer": "d", "paraphrases": []},
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    return path


def test_scores_follow_the_protocol_with_and_without_distractors(eval_file, tmp_path):
    without, with_distractors = evaluate(eval_file, HashingEncoder(), tmp_path / "eval.db", 0.6, Thresholds())
    assert (without.setting, without.faqs, without.queries) == ("without distractors", 3, 3)
    assert (with_distractors.faqs, with_distractors.queries) == (4, 3)
    assert without.top1 == pytest.approx(2 / 3)
    assert without.top3 == pytest.approx(1.0)
    assert (2 + 1 / 3) / 3 <= without.mrr <= (2 + 1 / 2) / 3
    assert without.qps > 0
    assert "without distractors" in format_scores(eval_file, "test", [without, with_distractors])


def test_a_rerun_reuses_the_database_and_its_vectors(eval_file, tmp_path):
    evaluate(eval_file, HashingEncoder(), tmp_path / "eval.db", 0.6, Thresholds())
    again = HashingEncoder()
    evaluate(eval_file, again, tmp_path / "eval.db", 0.6, Thresholds())
    assert again.encoded == 2 * 3  # the three queries, once per setting; no FAQ text again


def test_sample_keeps_n_queried_faqs_and_every_distractor(eval_file, tmp_path):
    evaluate(eval_file, HashingEncoder(), tmp_path / "eval.db", 0.6, Thresholds())  # same db, full set first
    without, with_distractors = evaluate(eval_file, HashingEncoder(), tmp_path / "eval.db", 0.6, Thresholds(),
                                         sample=1, seed=3)
    assert without.faqs == 1 and with_distractors.faqs == 2
    assert without.queries == 1
