"""What of an agent's chat answers the customer's question (issue 14: the inbox proposes only that).

A chat with a person is mostly conversation around the answer: greetings and self-introductions (您好，我是
人工客服小王), identity checks (请提供您登记的手机号), waiting and thanks (请稍等，正在为您查询；感谢您的耐心),
ticket numbers (已为您创建工单 GD-7K3QX9), closings (还有其他问题吗？祝您生活愉快). None of that belongs in
an FAQ, and sentences naming a ticket, a phone number or an account number speak of one customer only.
:func:`substance` keeps the rest; :func:`is_question` tells a customer's question from a 转人工, a greeting
or a phone number typed for the agent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from griddesk.text import normalize_utterance
from handoff.triggers import wants_human
from tickets.numbers import PATTERN as TICKET_NUMBER

MIN_ANSWER_CHARS = 6  # less than this left after the chatter: no answer worth proposing
MIN_QUESTION_CHARS = 4

_ENDS = "。！？" + "!?"
_SENTENCE = re.compile(f"[^{_ENDS}\n]+[{_ENDS}]*")
_CLAUSE_SEPARATORS = "，、；：" + ",;: \t"  # full-width and half-width
_PUNCTUATION = _ENDS + _CLAUSE_SEPARATORS + "～~…."

# a whole clause that is only courtesy: 您好 · 我是人工客服小王 · 很高兴为您服务 · 好的 · 请稍等 · 不客气
_COURTESY = re.compile(
    r"(?:您好|你好|亲|在的|在呢|嗨|哈喽|hi|hello)[呀啊哦]?"
    r"|我是[^，,。]{0,16}?(?:客服|专员|经理|工程师|坐席|同事|助手|成员)[^，,。]{0,6}"
    r"|(?:很|非常)?(?:高兴|荣幸)(?:为|给|帮)(?:您|你)服务"
    r"|(?:好的|好|嗯+|收到|明白|了解|清楚|没问题|不客气|没关系|可以的)[的哈呢呀啊了]?"
    r"|(?:请|麻烦)?(?:您)?稍(?:等|候)(?:一下|片刻|一会儿?)?",
    re.IGNORECASE,
)
# a sentence that is about the conversation, not the question
_TALK = re.compile(
    r"稍(?:等|候)|正在(?:为您|帮您|给您)?(?:查询|核实|处理|查看|确认|转接)"
    r"|(?:有什么|有啥|还有什么|还有其他|还有别的|其他)(?:问题|需要|事情)?[^。？?]{0,8}(?:帮|为)(?:您|你)"
    r"|(?:我|让我)来?(?:帮|为|给)(?:您|你)(?:看看|看一下|查查|查一下|问问|处理一下)"
    r"|(?:核实|验证|确认)(?:一下)?(?:您的)?身份"
    r"|(?:提供|告诉我|发一下|发给我|输入|报一下|确认一下)[^。？?]{0,16}"
    r"(?:手机|电话|号码|姓名|名字|身份证|后四位|地址|城市|区县|账号|户号|工单号|单号)"
    r"|请问(?:您的)?(?:手机号?|电话|姓名|名字|地址|身份证)"
    r"|(?:已经?|我)?(?:为您|帮您|给您)(?:提交|创建|登记|开|生成)(?:了)?(?:一个|一张)?工单|工单号|单号"
    r"|抱歉给您带来|带来(?:了)?(?:的)?不便|感谢您的(?:耐心|理解|支持|咨询|等待|配合|反馈|来电)"
    r"|谢谢您的(?:耐心|理解|支持|咨询|等待|配合)|祝您(?:生活愉快|愉快|顺利|工作顺利)|再见|拜拜"
    r"|(?:邀请|请)您?对(?:本次|我的|这次)服务"
    r"|(?:已经?|我已)(?:详细)?记录|转(?:给|交)(?:给)?相关(?:同事|部门|人员)"
)
# what speaks of one customer only: a phone number, an account or order number, a ticket number
_PERSONAL = re.compile(r"1[3-9]\d{9}|\d{5,}")


def _bare(text: str) -> str:
    return text.strip(_PUNCTUATION)


def _clauses(sentence: str) -> list[str]:
    out, start = [], 0
    for i, char in enumerate(sentence):
        if char in _CLAUSE_SEPARATORS:
            out.append(sentence[start : i + 1])
            start = i + 1
    out.append(sentence[start:])
    return [c for c in out if c.strip()]


def _is_courtesy(clause: str) -> bool:
    return not _bare(clause) or bool(_COURTESY.fullmatch(_bare(clause)))


def _keep(sentence: str) -> str:
    """The sentence without its courtesy clauses ("" when nothing of substance is left)."""
    if _TALK.search(sentence) or _PERSONAL.search(sentence) or TICKET_NUMBER.search(sentence):
        return ""
    clauses = [c for c in _clauses(sentence) if not _is_courtesy(c)]
    if not clauses:
        return ""
    text = "".join(clauses).strip()
    # a dropped closing clause may leave a separator at the end: end the sentence properly
    if text[-1] in _CLAUSE_SEPARATORS:
        text = text.rstrip(_CLAUSE_SEPARATORS) + "。"
    return text


def substance(replies: Iterable[str]) -> str:
    """The agent's substantive answer in ``replies`` (one line per reply that has some), or "" when the
    replies are only conversation."""
    lines = []
    for reply in replies:
        kept = "".join(_keep(sentence) for sentence in _SENTENCE.findall(reply or ""))
        if kept.strip():
            lines.append(kept.strip())
    answer = "\n".join(dict.fromkeys(lines))
    return answer if len(_bare(answer)) >= MIN_ANSWER_CHARS else ""


def is_question(text: str) -> bool:
    """Whether a customer's message can stand as the question of an FAQ: not a request for a person
    (转人工), not courtesy alone (你好，在吗), not data typed for the agent (a phone number, a ticket number)."""
    said = normalize_utterance(text or "")
    if len(_bare(said)) < MIN_QUESTION_CHARS or wants_human(text):
        return False
    if _PERSONAL.search(said) or TICKET_NUMBER.search(said):
        return False
    left = [c for c in _clauses(said) if not _is_courtesy(c) and _bare(c) not in {"在吗", "在不在", "有人吗", "谢谢"}]
    return len(_bare("".join(left))) >= MIN_QUESTION_CHARS
