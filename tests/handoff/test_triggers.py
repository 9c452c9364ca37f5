"""Words that always mean "a person, please" — and questions that only mention one."""

from __future__ import annotations

import pytest

from handoff.triggers import wants_human


@pytest.mark.parametrize(
    "text",
    [
        "转人工",
        "人工",
        "人工客服",
        "人工客服！",
        "客服",
        "我要人工",
        "我要找人工",
        "找真人",
        "帮我接人工服务",
        "轉人工",
        "人工客服在嗎",
        "能不能换个真人客服",
        "请转人工谢谢",
        "给我接客服",
        "麻烦转一下人工",
        "来个真人",
        "我要和你们的客服人员说话",
        "跟真人客服聊聊",
        "人工服务谢谢",
    ],
)
def test_requests_for_a_person_are_recognised(text):
    assert wants_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "人工！！！人工！！！",  # emphasis folded: 人工
        "客服客服客服",
        "求求了 快转人工吧",
        "電話打不通，轉人工",  # the question is in another clause
        "别扯了，转人工",
    ],
)
def test_requests_in_emphasis_or_after_another_clause_are_recognised(text):
    assert wants_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "人工客服几点上班",
        "人工客服的邮箱是多少",
        "人工客服周末上班吗",
        "找人工客服一般要等多久",
        "转人工是24小时的吗",
        "人工服务的时间是几点到几点",
        "客服电话是多少",
        "在线客服在哪里",
        "請問人工客服現在下班了嗎",
    ],
)
def test_questions_that_only_mention_a_person_are_left_to_the_bot(text):
    assert not wants_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "人工智能是什么",
        "你们的服务时间是几点",
        "不用转人工",
        "不要人工，我自己看看",
        "需要人工审核吗",
        "后来客服说要等",
        "我要投诉你们的客服",
        "客服让我把银行卡密码告诉他",
        "",
        "   ",
        (
            "我家的宽带断了好几天了,打了好多次电话都说在处理,工单号也查不到,能不能帮我看看到底怎么回事,"
            "如果今天再不修好我就要投诉了,另外我还想问一下转人工"
        ),
    ],
)
def test_other_messages_are_left_to_the_bot(text):
    assert not wants_human(text)
