"""What the curation tests share: the people who act and a published FAQ."""

from __future__ import annotations

from accounts.models import Role
from accounts.principals import Principal
from knowledge_base.curation import drafts, review
from knowledge_base.curation.base import FaqDraft
from knowledge_base.models import Faq

ADMIN = Principal(1, "admin", "管理员", Role.ADMIN, ())
MANAGER = Principal(2, "wuhou-mgr", "武侯经理", Role.MANAGER, ("cd-wuhou",))
OTHER_MANAGER = Principal(3, "pudong-mgr", "浦东经理", Role.MANAGER, ("sh-pudong",))
AGENT = Principal(4, "agent1", "客服一", Role.AGENT, ("cd-wuhou",))

INVOICE = FaqDraft("怎么开发票", ["如何开具发票"], "请在公众号申请电子发票。", "发票")


def published(session, draft: FaqDraft = INVOICE, actor=ADMIN) -> Faq:
    faq = drafts.create_faq(session, draft, actor)
    return review.publish(session, faq.id, actor)
