"""Checking the fields of what people and clients send (JSON bodies, form values): one set of rules.

Each reader returns the clean value or raises :class:`griddesk.errors.InvalidInput` naming the field by
its Chinese label in the message (``联系电话：不是有效的手机号…``) and by its machine name in ``field``.
Used by the web edge (:mod:`griddesk.web.params`) and by domain services that take such input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from griddesk.errors import InvalidInput

# C0/C1 control characters other than tab, line feed and carriage return
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MISSING = "缺少必填字段"


def has_surrogate(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate (it cannot be stored or sent as UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def clean_text(text: str) -> bool:
    """No control characters (other than tab and line breaks) and no lone surrogates."""
    return not CONTROL_CHARS.search(text) and not has_surrogate(text)


def invalid(name: str, label: str, why: str) -> InvalidInput:
    return InvalidInput(f"{label}：{why}。", field=name)


def text(
    body: Mapping[str, Any], name: str, label: str, *, max_chars: int, required: bool = False, multiline: bool = True
) -> str:
    """A text field, stripped (``""`` when absent or null and optional)."""
    value = body.get(name)
    if value is None:
        if required:
            raise invalid(name, label, MISSING)
        return ""
    if not isinstance(value, str):
        raise invalid(name, label, "必须是文字")
    value = value.strip()
    if not clean_text(value) or (not multiline and ("\n" in value or "\r" in value)):
        raise invalid(name, label, "不能含控制字符")
    if required and not value:
        raise invalid(name, label, "不能为空")
    if len(value) > max_chars:
        raise invalid(name, label, f"太长，最多 {max_chars} 个字符")
    return value


def integer(
    body: Mapping[str, Any], name: str, label: str, *, low: int, high: int, required: bool = True
) -> int | None:
    """A whole number in ``[low, high]`` (JSON booleans are not numbers)."""
    value = body.get(name)
    if value is None:
        if required:
            raise invalid(name, label, MISSING)
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise invalid(name, label, f"必须是 {low} 到 {high} 之间的整数")
    return value


def choice(
    body: Mapping[str, Any], name: str, label: str, choices: Mapping[str, str], *, default: str | None = None
) -> str:
    """One of ``choices`` (machine value → Chinese label); the message lists the labels."""
    value = body.get(name)
    if value is None:
        if default is not None:
            return default
        raise invalid(name, label, MISSING)
    if not isinstance(value, str) or value not in choices:
        allowed = "、".join(f"{shown}（{code}）" for code, shown in choices.items())
        raise invalid(name, label, f"请从{allowed}中选择")
    return value
