"""Finding ticket values in what customers type (pure functions the two forms call).

A form takes the whole message as the answer to the slot it asked for, after dropping lead-ins
such as 我叫 / 我在 (``*_answer``). These functions also find what a customer volunteers in any
message — a phone number, an amount of money, a ticket number, 「我叫…」 — and the problem
description in the message that started the form (我要投诉，宽带三天没修好 → 宽带三天没修好).
Volunteered values are returned only when ``tickets.fields`` accepts them; answers are returned
as typed, so the form can say exactly what is wrong with them.
"""

from __future__ import annotations

import re
import unicodedata

from griddesk.text import strip_control, to_simplified
from tickets.fields import (
    PHONE_IN_TEXT,
    InvalidField,
    find_phone,
    parse_amount,
    parse_category,
    parse_description,
    parse_name,
)
from tickets.numbers import normalize_number

_CLAUSES = re.compile(r"[，,。.!！?？;；、~～…\s]+")


def clean(text: object) -> str:
    """Full-width → half-width, no control characters, no outer spaces."""
    if not isinstance(text, str):
        return ""
    return strip_control(unicodedata.normalize("NFKC", text)).strip()


# --- phone numbers and amounts -----------------------------------------------------------------

_NUMBER = r"\d+(?:\.\d+)?\s*[万千]?"
_SPOKEN = r"[零一二两三四五六七八九十百千万]+"
_AMOUNT_WITH_UNIT = re.compile(rf"[¥￥]\s*({_NUMBER})|({_NUMBER}|{_SPOKEN})\s*(?:元|块钱|块|rmb)", re.IGNORECASE)
_BARE_NUMBER = re.compile(rf"(?<![\dA-Za-z.])({_NUMBER})")
_SPOKEN_WITH_UNIT = re.compile(r"[零一二两三四五六七八九]*[十百千万][零一二两三四五六七八九十百千万]*")


def _without_phones(text: str) -> str:
    return PHONE_IN_TEXT.sub(" ", text)


def find_amount(text: str) -> str | None:
    """An amount of money a customer mentions with its unit (200元, ￥99.5, 五千块), as a string
    ``parse_amount`` accepts; None when there is none."""
    value = to_simplified(_without_phones(clean(text))).replace(",", "")
    for match in _AMOUNT_WITH_UNIT.finditer(value):
        raw = (match.group(1) or match.group(2)).replace(" ", "")
        try:
            parse_amount(raw)
        except InvalidField:
            continue
        return raw
    return None


def amount_answer(text: str) -> str:
    """The answer to 「金额是多少」: an amount with or without its unit (5000 / 大概五千吧); the text
    itself when there is no number in it, so that validation can say what is wrong."""
    found = find_amount(text)
    if found:
        return found
    value = to_simplified(_without_phones(clean(text))).replace(",", "")
    for pattern in (_BARE_NUMBER, _SPOKEN_WITH_UNIT):
        match = pattern.search(value)
        if match:
            return match.group(match.lastindex or 0).replace(" ", "")
    return clean(text)


def phone_answer(text: str) -> str:
    return find_phone(text) or clean(text)


# --- names and regions -------------------------------------------------------------------------

_NAME_LEAD = re.compile(
    r"^(?:我的?(?:名字|姓名)(?:是|叫)?|我叫|叫我|我是|本人|姓名(?:是)?|名字(?:是)?|称呼(?:是)?|"
    r"联系人(?:是)?|免贵姓?|我姓)[\s:：]*"
)
_NAME_TAIL = re.compile(r"(?:就行了?|就好了?|就可以了?|吧|哈|呀|啊|哦)?[\s。.!！~,，]*$")
_NAME_IN_TEXT = re.compile(r"(?:我叫|名字(?:是|叫)|姓名(?:是)?|联系人(?:是)?)[\s:：]*([^\s，,。.!！?？;；:：\d]{1,16})")
_NAME_STOP = re.compile(r"(?:电话|手机|联系|号码|地址|住在|在).*$")


def name_answer(text: str) -> str:
    """The answer to 「怎么称呼您」 without its lead-in or what follows it: 我叫张三 → 张三,
    叫我小王就行 → 小王, 张三，电话138… → 张三 (the phone is taken separately)."""
    first = _CLAUSES.split(clean(text), maxsplit=1)[0]
    value = _NAME_TAIL.sub("", _NAME_STOP.sub("", _NAME_LEAD.sub("", first)))
    return value or clean(text)


def find_name(text: str) -> str | None:
    """A name the customer volunteers with 我叫 / 姓名 / 联系人: 我叫张三，电话… → 张三."""
    match = _NAME_IN_TEXT.search(clean(text))
    if not match:
        return None
    name = _NAME_TAIL.sub("", _NAME_STOP.sub("", match.group(1)))
    try:
        return parse_name(name)
    except InvalidField:
        return None


_REGION_LEAD = re.compile(
    r"^(?:我(?:家|们)?(?:住)?在|住在|在|地址(?:是|在)?|所在地(?:区)?(?:是)?|位于|地区(?:是)?|"
    r"区域(?:是)?)[\s:：]*"
)
_REGION_TAIL = re.compile(r"(?:这边|那边|附近|一带|这里|那里|的|吧|呀|啊|哦)?[\s。.!！~,，]*$")


def region_answer(text: str) -> str:
    """The answer to 「您在哪个城市、区县」 without its lead-in: 我在成都市武侯区 → 成都市武侯区."""
    value = to_simplified(clean(text))
    value = _REGION_TAIL.sub("", _REGION_LEAD.sub("", value))
    return value or clean(text)


# --- the message that starts the form ----------------------------------------------------------

_FILLER = re.compile(
    r"你好|您好|在吗|客服|请问|麻烦(?:你|您)?|^请|请(?=帮|你|您)|帮忙|帮我|给我|替我|我要|我想|想要|我需要|需要|"
    r"能不能|可不可以|可以|我有|想|要|有|一下|吧|啊|呀|呢|哦|嗯|了|的"
)
# A clause made only of these words asks for a ticket and says nothing about the problem.
_REQUEST = re.compile(
    r"(?:提交|提|开|建|创建|新建|登记|办理|申请|发起|留|报|做|反映|"
    r"一个|一张|一条|个|张|条|"
    r"工单|单子|单|留言|需求|投诉|报修|修|维修|退款|退费|赔偿|补偿|发票|开票|建议|意见|反馈|咨询|售后|问题|事情)+"
)
_NAME_ONLY = re.compile(r"(?:我叫|名字(?:是|叫)|姓名(?:是)?|联系人(?:是)?)[\s:：]*[^\s，,。.!！?？;；:：\d]{1,16}")
_CONTACT_ONLY = re.compile(r"(?:我的?|联系)?(?:电话|手机号?|号码|联系方式|方式|金额|钱|是|为|:|：)*")


def _is_request_only(clause: str) -> bool:
    """我要投诉 / 帮我开个工单 / 我叫张三 / 电话138…: a clause that asks for a ticket or gives contact
    details, and says nothing of the problem."""
    value = to_simplified(clause)
    if _NAME_ONLY.fullmatch(value):
        return True
    value = _AMOUNT_WITH_UNIT.sub("", _without_phones(value))
    value = _FILLER.sub("", value).replace(" ", "")
    return not value or bool(_REQUEST.fullmatch(value)) or bool(_CONTACT_ONLY.fullmatch(value))


def description_in_request(text: str) -> str | None:
    """The problem in the message that started the form, without the request itself:
    我要投诉，宽带三天没修好 → 宽带三天没修好; 我要报修 → None. Only descriptions that
    ``parse_description`` accepts are returned."""
    value = clean(text)
    if not value or value.startswith("/"):
        return None
    kept = [clause for clause in _CLAUSES.split(value) if clause and not _is_request_only(clause)]
    if not kept:
        return None
    try:
        return parse_description("，".join(kept))
    except InvalidField:
        return None


def find_category(text: str) -> str | None:
    """The category a message names (投诉 → complaint, 发票開錯了 → billing), or None."""
    value = clean(text)
    if not value or value.startswith("/"):
        return None
    try:
        return parse_category(value).value
    except InvalidField:
        return None


# --- ticket lookups ----------------------------------------------------------------------------


def find_ticket_number(text: str) -> str | None:
    return normalize_number(clean(text))


# What a question about a ticket names: the ticket (工单, 单子, 维修单, a number), what was filed (报修,
# 报的故障, 投诉, 退款申请), or how far it got (进度, 到哪, 处理, 状态, 结果, 上门). A message the NLU reads
# as check_ticket without any of these (约好的师傅还没来, 过年有人工客服吗) is a question for the
# knowledge base, not a lookup.
_ABOUT_A_TICKET = re.compile(
    r"工单|单子|单号|维修单|报修|报障|报的|提交|申请|投诉|维修|修好|进度|进展|到哪|处理|状态|结果|审核|上门|"
    r"ticket|gd-?[a-z0-9]",
    re.IGNORECASE,
)


def names_a_ticket(text: str) -> bool:
    """Whether a message is about a ticket of the customer's (see ``_ABOUT_A_TICKET``)."""
    said = to_simplified(clean(text))
    return bool(_ABOUT_A_TICKET.search(said)) or find_ticket_number(said) is not None


def last4_answer(text: str) -> str:
    """The answer to 「电话后4位」: 5678 / 尾号5678 / the whole number 13812345678 → 5678."""
    phone = find_phone(text)
    if phone:
        return phone[-4:]
    groups = re.findall(r"\d+", clean(text))
    if len(groups) == 1:
        return groups[0]
    return clean(text)


# --- which field a customer wants to change ----------------------------------------------------

FIELD_CODES = {
    "category": "ticket_category",
    "description": "ticket_description",
    "amount": "ticket_amount",
    "phone": "ticket_phone",
    "name": "ticket_name",
    "region": "ticket_region",
}
# Checked in this order: 问题类型 is the category, not the description; 联系人电话 is the phone.
FIELD_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ticket_category", ("类型", "类别", "分类", "种类")),
    ("ticket_amount", ("金额", "钱", "数额")),
    ("ticket_phone", ("电话", "手机", "号码", "联系方式")),
    ("ticket_name", ("名字", "姓名", "称呼", "联系人", "名")),
    ("ticket_region", ("地区", "地址", "区域", "地点", "位置", "所在地", "城市", "区县")),
    ("ticket_description", ("描述", "问题", "内容", "情况", "说明")),
)


def field_slot(text: object) -> str | None:
    """The ticket slot a customer names: ``phone`` (button) / 电话 / 電話写错了 → ticket_phone."""
    value = to_simplified(clean(text)).lower()
    if not value:
        return None
    if value in FIELD_CODES:
        return FIELD_CODES[value]
    if value in FIELD_CODES.values():
        return value
    for slot, words in FIELD_WORDS:
        if any(word in value for word in words):
            return slot
    return None
