"""Telling an agent's substantive answer from the chat around it, and a customer's question from 转人工."""

from __future__ import annotations

import pytest

from handoff.agent_answer import is_question, substance


def test_greetings_identity_checks_ticket_numbers_and_closings_are_left_out():
    chat = [
        "您好，我是人工客服小王，很高兴为您服务。请问有什么可以帮您？",
        "为了核实您的身份，请提供您办理业务时登记的联系电话。",
        "好的，正在为您查询，请稍等片刻。",
        "您好，宽带暂停需要办理停机保号，在公众号「业务办理」里申请，最长保留 3 个月。",
        "已为您创建工单 GD-7K3QX9，工单号会发送给您。",
        "您登记的号码 13800138000 已经核对无误。",
        "请问还有其他需要帮您处理的问题吗？",
        "感谢您的咨询，祝您生活愉快！稍后会邀请您对本次服务进行评价。",
    ]
    assert substance(chat) == "宽带暂停需要办理停机保号，在公众号「业务办理」里申请，最长保留 3 个月。"


def test_replies_that_are_only_conversation_propose_nothing():
    assert substance(["您好，我是人工客服，很高兴为您服务。", "好的", "请稍等", "不客气，再见！"]) == ""
    assert substance(["您好，我来帮您看看。", "嗯嗯，明白了"]) == ""
    assert substance([]) == ""


def test_a_substantive_answer_over_several_replies_keeps_each_line_once():
    replies = ["可以办理停机保号，", "在公众号「业务办理」里申请。", "在公众号「业务办理」里申请。"]
    assert substance(replies) == "可以办理停机保号。\n在公众号「业务办理」里申请。"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("宽带能不能暂停一个月", True),
        ("你好，我家宽带断了怎么办", True),
        ("转人工", False),
        ("人工客服！！", False),
        ("你好", False),
        ("在吗？", False),
        ("13800138000", False),
        ("GD-7K3QX9", False),
        ("谢谢", False),
    ],
)
def test_a_question_is_neither_a_request_for_a_person_nor_courtesy_nor_data_for_the_agent(text, expected):
    assert is_question(text) is expected
