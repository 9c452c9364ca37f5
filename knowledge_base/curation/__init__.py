"""Curating the knowledge base: drafts, review, publishing, restore and archive of FAQs.

Customers only see the live :class:`~knowledge_base.models.Faq` row of a published FAQ, which holds
the content of its published version; drafts live in :class:`~knowledge_base.models.FaqVersion` rows
(immutable) until they are published. Every change claims the FAQ first with a conditional
``UPDATE … SET version = version + 1 WHERE version = :expected``: a writer that lost a race gets
:class:`FaqConflict` and nothing is written. Functions flush; the caller commits (one transaction:
the version row, the live row and the event land together or not at all).

``actor`` is a logged-in :class:`~accounts.principals.Principal` (whose role decides what they may
publish) or a string naming a trusted system caller (``"system"``, ``"import"``), which may.

The modules: :mod:`.base` (who may publish, claiming an FAQ, versions and events), :mod:`.drafts`
(validating, creating and saving drafts, similar questions), :mod:`.review` (submit, approve,
reject, publish, restore, archive) and :mod:`.finding` (listing FAQs). This package only names
their public functions, with the history and errors, for the admin API (which calls
``curation.<function>``); other code imports the module it needs.
"""

from __future__ import annotations

from knowledge_base.curation.base import Actor, FaqDraft, author_of, draft_of, get_faq, may_publish
from knowledge_base.curation.drafts import (
    add_similar_question,
    add_similar_questions,
    create_faq,
    save_draft,
    validate_draft,
)
from knowledge_base.curation.finding import find_faqs
from knowledge_base.curation.review import approve, archive, publish, reject, restore, submit
from knowledge_base.curation_errors import (
    CurationError,
    FaqConflict,
    FaqNotFound,
    InvalidDraft,
    InvalidTransition,
    NotAllowed,
    NothingToPublish,
    VersionNotFound,
)
from knowledge_base.history import EventView, FieldDiff, VersionView, diff, events, history, version_view

__all__ = [
    "Actor", "CurationError", "EventView", "FaqConflict", "FaqDraft", "FaqNotFound", "FieldDiff",
    "InvalidDraft", "InvalidTransition", "NotAllowed", "NothingToPublish", "VersionNotFound", "VersionView",
    "add_similar_question", "add_similar_questions", "approve", "archive", "author_of", "create_faq", "diff",
    "draft_of", "events", "find_faqs", "get_faq", "history", "may_publish", "publish", "reject", "restore",
    "save_draft", "submit", "validate_draft", "version_view",
]
