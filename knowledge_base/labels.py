"""Chinese labels of knowledge-base values, for the admin console (served by ``GET /api/v1/labels``)."""

from __future__ import annotations

from knowledge_base.index import Decision
from knowledge_base.models import FaqStatus, Review

FAQ_STATUS_LABELS: dict[str, str] = {FaqStatus.DRAFT: "草稿", FaqStatus.PUBLISHED: "已发布", FaqStatus.ARCHIVED: "已下线"}
REVIEW_LABELS: dict[str, str] = {Review.NONE: "", Review.DRAFT: "草稿未提交", Review.PENDING: "待审核",
                                 Review.REJECTED: "已驳回"}
DECISION_LABELS: dict[str, str] = {Decision.ANSWER: "直接回答", Decision.SUGGEST: "推荐候选",
                                   Decision.FALLBACK: "转人工兜底"}
# kb_miss.kind: why a question is in the unanswered inbox
INBOX_KIND_LABELS: dict[str, str] = {"miss": "未命中", "low_confidence": "低置信", "unhelpful": "没帮助",
                                     "agent_answer": "客服回答"}
