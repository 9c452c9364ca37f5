"""Words that always mean "a person, please"."""

from __future__ import annotations

import pytest

from handoff.triggers import wants_human


@pytest.mark.parametrize(
    "text",
    [
        "转人工",
        "人工",
        "人工客服",
        "我要找人工",
        "帮我接人工服务",
        "轉人工",
        "人工客服在嗎",
        "能不能换个真人客服",
        "请转人工谢谢",
    ],
)
def test_requests_for_a_person_are_recognised(text):
    assert wants_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "人工智能是什么",
        "你们的服务时间是几点",
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
