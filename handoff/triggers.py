"""Words that always mean "a person, please" (DESIGN.md: 转人工/人工客服/找人工… always offer a human).

The gateway checks them before the bot sees the message, so no NLU miss can keep a customer from a
person; the bot then gets ``/request_human`` and builds the handoff packet as for the intent.

Only requests count: 转人工, 人工客服！, 我要人工, 找真人, 给我接客服, 人工客服在吗. A question that
merely mentions 人工客服 or 客服 — when they work, their e-mail, how long they take to answer
(人工客服几点上班, 找人工客服要等多久, 转人工是24小时的吗) — is left to the assistant, which
answers it from the knowledge base (and still hands over when the NLU reads a request).
"""

from __future__ import annotations

import re

from griddesk.text import normalize_utterance

MAX_CHARS = 40  # a long message that mentions 人工 in passing is a question, not a request

_PERSON = r"(?:人工|真人|活人|客服|坐席|工作人员|专员)"
# A verb of reaching someone right before the person: 转人工, 找个真人, 给我接客服, 接通人工坐席,
# 叫你们客服出来, 换个真人, 转一下人工, 来个真人; or talking with one: 跟真人客服聊聊,
# 和你们的客服人员说话.
_REACH = re.compile(
    r"(?:转|转接|接|接通|找|叫|换|(?<!需)要|请|来(?=一?个))(?:一?个|一下|下|你们的?)?"
    + _PERSON
    + r"|(?:跟|和|与)(?:你们的?)?(?:人工|真人|活人|客服)\w{0,4}?(?:聊|说|谈|沟通|对话|讲)"
)
# 不用转人工, 不要人工, 别找客服: declining a person is not asking for one.
_DECLINED = re.compile(r"(?:不用|不要|不需要|不必|无需|没必要|别|不想)\w{0,2}$")
# The whole clause names a person and nothing else (人工 · 人工客服! · 客服 · 真人客服 · 人工服务),
# maybe with courtesy words or 在吗 (人工客服在吗, 请给我人工服务谢谢).
_BARE = re.compile(
    r"(?:请|麻烦|麻烦你|给我|帮我|我要|快|快点)*"
    r"(?:人工|真人|人工客服|真人客服|在线客服|客服|人工服务|人工坐席|客服人员)"
    r"(?:在吗|在不在|呢|吧|啊|呀|谢谢|快点)*"
)
# What a question *about* the service asks for: its hours, days, contact details, waiting time,
# cost, where it is. A clause with one of these is a question even when it says 转人工 / 找人工.
_ABOUT = re.compile(
    r"几点|几时|什么时候|何时|多久|多长时间|时间|时段|上班|下班|营业|值班|开始|结束|24小时|全天|"
    r"周末|周六|周日|星期|礼拜|节假日|假期|过年|春节|国庆|晚上|早上|凌晨|中午|"
    r"邮箱|邮件|电话|号码|热线|地址|微信|在哪|哪里|哪儿|入口|怎么找|怎样找|"
    r"收费|要钱|免费|多少钱|是不是|会不会"
)
_CLAUSES = re.compile(r"[\s!?.,;:~。、…]+")


def _asks_for_a_person(clause: str) -> bool:
    if _ABOUT.search(clause):
        return False
    if _BARE.fullmatch(clause):
        return True
    return any(not _DECLINED.search(clause[: match.start() + 1]) for match in _REACH.finditer(clause))


def wants_human(text: str) -> bool:
    """True when a short message asks for a person (Traditional characters and emphasis too): one
    of its clauses names a person with a verb of reaching them (not declined: 不用转人工), or names
    only a person, and asks nothing about them."""
    said = normalize_utterance(text)
    if not 0 < len(said) <= MAX_CHARS:
        return False
    return any(_asks_for_a_person(clause) for clause in _CLAUSES.split(said) if clause)
