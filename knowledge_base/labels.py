"""Chinese labels of knowledge-base values, for the admin console (served by ``GET /api/v1/console/labels``)."""

from __future__ import annotations

from knowledge_base.faq_fields import FIELD_LABELS as CONTENT_FIELD_LABELS
from knowledge_base.index import Decision
from knowledge_base.models import FaqStatus, Review

FAQ_STATUS_LABELS: dict[str, str] = {
    FaqStatus.DRAFT: "草稿",
    FaqStatus.PUBLISHED: "已发布",
    FaqStatus.ARCHIVED: "已下线",
}
REVIEW_LABELS: dict[str, str] = {
    Review.NONE: "",
    Review.DRAFT: "草稿未提交",
    Review.PENDING: "待审核",
    Review.REJECTED: "已驳回",
}
DECISION_LABELS: dict[str, str] = {
    Decision.ANSWER: "直接回答",
    Decision.SUGGEST: "推荐候选",
    Decision.FALLBACK: "转人工兜底",
}
# kb_faq_event.source: where a version came from
EVENT_SOURCE_LABELS: dict[str, str] = {
    "edit": "编辑",
    "create": "新建",
    "import": "导入",
    "restore": "恢复",
    "inbox": "未解决问题",
    "similar": "加相似问",
    "seed": "初始数据",
    "customize": "网格定制",
    "agent_answer": "客服回答",
}
# The fields of an FAQ as people name them (forms, diffs, error messages).
FIELD_LABELS: dict[str, str] = {
    **CONTENT_FIELD_LABELS,
    "overrides_id": "覆盖的全局问答",
    "note": "备注",
    "expected_version": "问答版本号",
    "number": "版本号",
}
# kb_miss.kind: why a question is in the unanswered inbox
INBOX_KIND_LABELS: dict[str, str] = {
    "miss": "未命中",
    "low_confidence": "低置信",
    "unhelpful": "没帮助",
    "agent_answer": "客服回答",
}
