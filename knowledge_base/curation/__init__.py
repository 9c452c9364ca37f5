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
reject, publish, restore, archive) and :mod:`.finding` (listing FAQs). Import the module you
need.
"""
