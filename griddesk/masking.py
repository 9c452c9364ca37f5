"""How customer contact details show where nobody asked to see them (lists in the consoles):
138****8000, 张*. The full values only come with an explicit, audited open."""

from __future__ import annotations

KEEP_HEAD, KEEP_TAIL = 3, 4


def mask_phone(phone: str) -> str:
    """The first 3 and last 4 digits of a phone (13800138000 → 138****8000, 02885551234 → 028****1234);
    a number too short to keep both is all stars."""
    if len(phone) <= KEEP_HEAD + KEEP_TAIL:
        return "*" * len(phone)
    return phone[:KEEP_HEAD] + "*" * (len(phone) - KEEP_HEAD - KEEP_TAIL) + phone[-KEEP_TAIL:]


def mask_name(name: str) -> str:
    """The first character of a name, the rest as stars (张三 → 张*, 欧阳娜娜 → 欧***); one character → *."""
    if len(name) <= 1:
        return "*" * len(name)
    return name[0] + "*" * (len(name) - 1)
