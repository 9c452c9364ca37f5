"""Domain errors of knowledge-base curation. Each carries a stable ``code`` (the HTTP edge maps it to
a status) and a Chinese message fit to show the user (``str(error)``)."""

from __future__ import annotations

from griddesk.errors import DomainError


class CurationError(DomainError):
    code = "curation_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field)


class FaqNotFound(CurationError):
    code = "faq_not_found"

    def __init__(self, faq_id: int) -> None:
        super().__init__(f"没有编号为 {faq_id} 的 FAQ")
        self.faq_id = faq_id


class VersionNotFound(CurationError):
    code = "version_not_found"

    def __init__(self, faq_id: int, number: int) -> None:
        super().__init__(f"FAQ {faq_id} 没有版本 {number}")
        self.faq_id = faq_id
        self.number = number


class FaqConflict(CurationError):
    """Someone else changed the FAQ since the caller loaded it; nothing was written."""

    code = "faq_conflict"

    def __init__(self, faq_id: int, expected_version: int, current_version: int) -> None:
        super().__init__("这条问答刚被其他人修改过，您的内容尚未保存：请刷新查看最新版本后再提交")
        self.faq_id = faq_id
        self.expected_version = expected_version
        self.current_version = current_version


class InvalidDraft(CurationError):
    code = "invalid_draft"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)


class NothingToPublish(CurationError):
    code = "nothing_to_publish"

    def __init__(self, faq_id: int) -> None:
        super().__init__("这条 FAQ 没有待发布的草稿")
        self.faq_id = faq_id


class NotAllowed(CurationError):
    code = "not_allowed"

    def __init__(self, message: str = "您没有权限执行此操作") -> None:
        super().__init__(message)


class InvalidTransition(CurationError):
    """submit / approve / reject / archive asked of an FAQ in the wrong state."""

    code = "invalid_transition"

    def __init__(self, message: str, state: str = "") -> None:
        super().__init__(message)
        self.state = state


class InboxItemsNotFound(CurationError):
    """None of the given inbox items is still open (resolved meanwhile, or unknown ids)."""

    code = "inbox_items_not_found"

    def __init__(self) -> None:
        super().__init__("这些问题已被处理或不存在，请刷新列表")
