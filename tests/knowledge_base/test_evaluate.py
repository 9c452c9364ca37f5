import json

import pytest

from knowledge_base.evaluate import evaluate, format_scores
from knowledge_base.index import Thresholds
from knowledge_base.training import TrainingConfig
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
    without, with_distractors = evaluate(
        eval_file, HashingEncoder(), tmp_path / "eval.db", 0.6, Thresholds(), sample=1, seed=3
    )
    assert without.faqs == 1 and with_distractors.faqs == 2
    assert without.queries == 1


@pytest.fixture
def training_file(tmp_path):
    records = [
        {"faq_id": f"F{i}", "question": q, "answer": "x", "paraphrases": [p]}
        for i, (q, p) in enumerate(
            [
                ("怎么开发票", "如何开票"),
                ("客服电话是多少", "热线电话多少"),
                ("怎么修改密码", "密码怎么改"),
                ("宽带断网了怎么办", "上不了网"),
                ("营业时间", "几点开门"),
                ("怎么注销账号", "账号不要了"),
            ]
        )
    ] + [{"faq_id": "D", "question": "怎么交话费", "answer": "d", "paraphrases": []}]
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    return path


def test_train_with_a_sample_scores_the_sample_again_with_an_adapter_learned_outside_it(training_file, tmp_path):
    scores = evaluate(
        training_file,
        HashingEncoder(),
        tmp_path / "eval.db",
        0.6,
        Thresholds(),
        sample=2,
        train=True,
        config=TrainingConfig(epochs=2, min_steps=2),
    )
    assert [s.setting for s in scores] == [
        "without distractors",
        "with distractors",
        "without distr. · adapter",
        "with distr. · adapter",
    ]
    assert [s.queries for s in scores] == [2, 2, 2, 2]
    assert scores[2].faqs == 2 and scores[3].faqs == 3


def test_train_on_the_whole_file_cross_fits_every_query_once(training_file, tmp_path):
    scores = evaluate(
        training_file,
        HashingEncoder(),
        tmp_path / "eval.db",
        0.6,
        Thresholds(),
        train=True,
        folds=3,
        config=TrainingConfig(epochs=2, min_steps=2),
    )
    assert [s.queries for s in scores] == [6, 6, 6, 6]
    assert scores[2].faqs == 6 and scores[3].faqs == 7


def test_an_evaluation_cache_from_an_older_schema_is_rebuilt_keeping_its_vectors(tmp_path):
    import sqlite3

    from knowledge_base.evaluate import cache_engine

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # the shape of kb_faq and kb_embedding before curation existed
        db.execute("CREATE TABLE kb_faq (id INTEGER PRIMARY KEY, question TEXT)")
        db.execute(
            "CREATE TABLE kb_embedding (model VARCHAR(200), text_hash VARCHAR(64), dim INTEGER, "
            "vector BLOB, PRIMARY KEY (model, text_hash))"
        )
        db.execute("INSERT INTO kb_embedding VALUES ('use', 'abc', 2, x'0000803f0000803f')")
    engine = cache_engine(path)
    with engine.connect() as connection:
        columns = {row[1] for row in connection.exec_driver_sql("PRAGMA table_info(kb_faq)")}
        kept = connection.exec_driver_sql("SELECT model, text_hash FROM kb_embedding").all()
    engine.dispose()
    assert {"published_version", "review"} <= columns
    assert kept == [("use", "abc")]
    assert not (tmp_path / "old.db.old").exists()
