"""Who may publish which FAQ."""

from __future__ import annotations

from knowledge_base.curation import base
from knowledge_base.models import Faq
from tests.knowledge_base.curation.common import ADMIN, AGENT, MANAGER, OTHER_MANAGER


def test_may_publish_follows_role_and_grid():
    wuhou = Faq(grid="cd-wuhou")
    global_faq = Faq(grid=None)
    assert base.may_publish(ADMIN, global_faq) and base.may_publish(ADMIN, wuhou)
    assert base.may_publish(MANAGER, wuhou) and not base.may_publish(MANAGER, global_faq)
    assert not base.may_publish(OTHER_MANAGER, wuhou)
    assert not base.may_publish(AGENT, wuhou)
