"""Training from the knowledge base's own similar questions: versions, activation, rollback."""

import numpy as np
import pytest

from griddesk.db import session_scope
from knowledge_base.index import Thresholds
from knowledge_base.learning import (
    NotEnoughData,
    activate_version,
    active_adapter,
    groups_of,
    rollback,
    train_from_knowledge_base,
    versions,
)
from knowledge_base.models import Faq
from knowledge_base.search import KnowledgeBase, load_entries
from knowledge_base.training import TrainingConfig
from tests.encoders import HashingEncoder
from tests.factories import make_demo_faqs, make_faq

FAST = TrainingConfig(epochs=3, min_steps=3)


def train(encoder, force=False):
    with session_scope() as session:
        return train_from_knowledge_base(session, encoder, load_entries(session), 0.6, Thresholds(), FAST, force=force)


def test_groups_are_the_normalised_texts_of_faqs_with_paraphrases_plus_extra_mappings(settings):
    with session_scope() as session:
        make_demo_faqs(session)
        lonely = make_faq(session, "孤单的问题")
        entries = load_entries(session)
    groups = groups_of(entries, extra=[("孤單的問題嗎", lonely.id)])
    assert groups[entries[0].id][:2] == ["你们的服务时间是几点到几点", "客服几点上班"]
    assert groups[lonely.id] == ["孤单的问题", "孤单的问题吗"]
    assert len(groups) == 6


def test_training_stores_a_version_with_validation_figures_and_activates_it_unless_worse(settings):
    with session_scope() as session:
        make_demo_faqs(session)
    outcome = train(HashingEncoder())
    assert outcome.version == 1 and outcome.pairs == 15 and outcome.faqs == 5
    assert outcome.validation_faqs >= 1 and outcome.before.queries >= 1
    assert outcome.activated == ((outcome.after.top1, outcome.after.mrr) >= (outcome.before.top1, outcome.before.mrr))
    with session_scope() as session:
        (row,) = versions(session)
        assert row.report["before"]["queries"] == outcome.before.queries
        assert row.active == outcome.activated


def test_a_forced_version_is_active_searches_use_it_and_rollback_restores_the_one_before(settings):
    with session_scope() as session:
        make_demo_faqs(session)
    encoder = HashingEncoder()
    kb = KnowledgeBase(settings, encoder, refresh_seconds=0)
    assert kb.index().adapter is None
    first, second = train(encoder, force=True), train(encoder, force=True)
    assert (first.activated, second.activated) == (True, True)
    assert kb.index().adapter.version == second.version  # picked up without a restart
    with session_scope() as session:
        assert active_adapter(session, encoder.name).version == second.version
        assert active_adapter(session, "another-encoder") is None
        assert (rollback(session).previous, active_adapter(session, encoder.name).version) == (2, 1)
    assert kb.index().adapter.version == first.version
    with session_scope() as session:
        assert rollback(session).now is None
        assert rollback(session).previous is None
        assert activate_version(session, 2) and not activate_version(session, 99)
    assert kb.index().adapter.version == 2


def test_too_few_similar_questions_are_refused(settings):
    with session_scope() as session:
        make_faq(session, "怎么开发票", ["如何开票"])
    with pytest.raises(NotEnoughData):
        train(HashingEncoder())
    with session_scope() as session:
        assert versions(session) == []


def test_the_adapter_learned_with_the_real_encoder_keeps_the_demo_answers(settings):
    from knowledge_base.encoders import get_encoder

    with session_scope() as session:
        make_demo_faqs(session)
        session.add(
            Faq(
                external_id="extra",
                question="发票抬头开错了怎么办",
                similar_questions=["抬头写错了能改吗"],
                answer="可重开。",
            )
        )
    outcome = train(get_encoder("use"), force=True)
    assert outcome.activated
    kb = KnowledgeBase(settings, get_encoder("use"), refresh_seconds=0)
    index = kb.index()
    assert index.adapter is not None and np.isfinite(index.adapter.matrix).all()
    assert kb.search("如何开具发票", k=1).top.faq.question == "怎么开发票"
