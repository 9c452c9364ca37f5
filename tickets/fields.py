"""Parsing and validating what a customer (or agent) types for a ticket's fields.

Plain functions shared by the chat form, the REST API and tests. Each returns the normalised
value or raises ``InvalidField`` whose ``reason`` key names the re-prompt to use.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from griddesk.errors import DomainError
from griddesk.text import strip_control, to_simplified
from tickets.labels import CATEGORY_LABELS, FIELD_LABELS, REASONS
from tickets.models import Category


class InvalidField(DomainError, ValueError):
    """A value the customer or agent typed is not usable; ``reason`` names why (and the chat's re-prompt)."""

    code = "invalid_field"

    def __init__(self, field: str, reason: str) -> None:
        label = FIELD_LABELS.get(field, field)
        super().__init__(f"{label}：{REASONS.get(reason, reason)}。", field=field)
        self.reason = reason


# Checked in this order (投诉 before the fault words: 宽带三天没修好我要投诉 is a complaint). 卡 alone is
# not a fault word (银行卡, 信用卡): 卡顿, 很卡, 一直卡 are.
CATEGORY_WORDS: dict[Category, tuple[str, ...]] = {
    Category.COMPLAINT: ("投诉", "投訴", "不满", "太差"),
    Category.REFUND: ("退款", "赔偿", "退费", "补偿", "退钱"),
    Category.BILLING: ("账务", "发票", "账单", "扣费", "缴费", "开票", "票据"),
    Category.FAULT: (
        "故障",
        "报修",
        "维修",
        "修理",
        "来修",
        "修一下",
        "断网",
        "网断",
        "坏了",
        "连不上",
        "上不了网",
        "网速",
        "慢",
        "卡顿",
        "很卡",
        "好卡",
        "太卡",
        "特别卡",
        "卡得",
        "卡死",
        "一直卡",
        "没网",
        "红灯",
        "不通",
        "掉线",
        "断线",
    ),
    Category.AFTER_SALES: ("售后", "退换", "换货", "安装", "设备"),
    Category.SUGGESTION: ("建议", "意见", "反馈"),
    Category.CONSULTATION: ("咨询", "问问", "了解", "问一下"),
}

_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
_LANDLINE = re.compile(r"^(0\d{2,3})(\d{7,8})$")


def _clean(text: object) -> str:
    if not isinstance(text, str):
        raise InvalidField("text", "not_text")
    return strip_control(unicodedata.normalize("NFKC", text)).strip()


def parse_category(text: object) -> Category:
    """A category from its code, its label or the words a customer uses (投诉 → complaint)."""
    value = to_simplified(_clean(text)).lower()
    for category in Category:
        if value in (category.value, CATEGORY_LABELS[category]):
            return category
    for category, words in CATEGORY_WORDS.items():
        if any(word in value for word in words):
            return category
    raise InvalidField("category", "unknown_category")


def normalize_phone(text: object) -> str:
    """Mainland mobile (13812345678) or landline with area code (028-85551234 → 02885551234)."""
    digits = re.sub(r"[\s\-()()+]", "", _clean(text))
    if digits.startswith("0086"):
        digits = digits[4:]
    if not digits.isdigit():
        raise InvalidField("phone", "invalid_phone")
    if match := _MOBILE.match(digits):
        return match.group(1)
    if _LANDLINE.match(digits):
        return digits
    raise InvalidField("phone", "invalid_phone")


# a phone number inside a longer message: mobile (with or without +86 and separators) or landline
PHONE_IN_TEXT = re.compile(
    r"(?<![\d])(?:(?:\+|00)?86[\s-]?)?(1[3-9]\d(?:[\s-]?\d{4}){2}|0\d{2,3}[\s-]?\d{7,8})(?![\d])"
)


def find_phone(text: object) -> str | None:
    """The first valid mainland mobile or landline number in a message (normalised), or None:
    「电话 138-1234-5678，谢谢」 → 13812345678. The action server's form reads phones with it too."""
    if not isinstance(text, str):
        return None
    for match in PHONE_IN_TEXT.finditer(_clean(text)):
        try:
            return normalize_phone(match.group(1))
        except InvalidField:
            continue
    return None


def category_in(text: object) -> Category | None:
    """The category a customer's words name (``parse_category``), or None when they name none."""
    try:
        return parse_category(text)
    except InvalidField:
        return None


def parse_name(text: object) -> str:
    name = _clean(text)
    if not name or len(name) > 32 or any(ch.isdigit() for ch in name):
        raise InvalidField("name", "invalid_name")
    return name


def parse_region(text: object) -> str:
    region = to_simplified(_clean(text)).replace(" ", "")
    if len(region) < 2 or len(region) > 64 or not re.search(r"[\u4e00-\u9fff]", region):
        raise InvalidField("region", "invalid_region")
    return region


def parse_description(text: object) -> str:
    if not isinstance(text, str):
        raise InvalidField("description", "not_text")
    description = strip_control(text).strip()  # kept as written: no NFKC, so ，stays ，
    if len(description) < 4:
        raise InvalidField("description", "description_too_short")
    if len(description) > 1000:
        raise InvalidField("description", "description_too_long")
    return description


_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}


def _chinese_number(text: str) -> int | None:
    """五千 → 5000, 一万二 is not supported; 三千五百 → 3500."""
    if not text or any(ch not in _CN_DIGITS and ch not in _CN_UNITS for ch in text):
        return None
    total, current = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        else:
            unit = _CN_UNITS[ch]
            if unit == 10000:
                total = (total + (current or 0)) * unit
            else:
                total += (current or 1) * unit
            current = 0
    return total + current


def parse_amount(text: object) -> Decimal:
    """Yuan, from 5000 / 5,000元 / ￥5000.50 / 五千 / 5千 / 1.2万."""
    value = to_simplified(_clean(text)).replace(",", "").replace("，", "").replace("￥", "").replace("¥", "")
    value = re.sub(r"(元|块钱|块|人民币|rmb)$", "", value.lower()).strip()
    multiplier = 1
    if value.endswith("万"):
        multiplier, value = 10000, value[:-1]
    elif value.endswith("千") and value[:-1].replace(".", "").isdigit():
        multiplier, value = 1000, value[:-1]
    try:
        amount = Decimal(value) * multiplier
    except InvalidOperation:
        spoken = _chinese_number(value)
        if spoken is None:
            raise InvalidField("amount", "invalid_amount") from None
        amount = Decimal(spoken) * multiplier
    if not amount.is_finite() or amount < Decimal("0.01") or amount >= Decimal("100000000"):
        raise InvalidField("amount", "invalid_amount")
    return amount.quantize(Decimal("0.01"))
