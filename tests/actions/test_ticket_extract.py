"""Finding ticket values in what customers type (Simplified, Traditional, colloquial)."""

from __future__ import annotations

import pytest

from actions.ticket_extract import (
    amount_answer,
    description_in_request,
    field_slot,
    find_amount,
    find_category,
    find_name,
    find_phone,
    find_ticket_number,
    last4_answer,
    name_answer,
    phone_answer,
    region_answer,
)


@pytest.mark.parametrize(
    "text, description",
    [
        ("我要投诉，宽带三天没修好", "宽带三天没修好"),
        ("家里宽带断了，帮我报修", "家里宽带断了"),
        ("你好，我想报修，家里wifi用不了", "家里wifi用不了"),
        ("重复扣费了，帮我退款", "重复扣费了"),
        ("发票開錯了", "发票開錯了"),
        ("宽带坏了，电话13812345678", "宽带坏了"),
        ("我要投訴，寬帶三天沒修好", "寬帶三天沒修好"),
    ],
)
def test_the_problem_in_the_first_message_becomes_the_description(text, description):
    assert description_in_request(text) == description


@pytest.mark.parametrize(
    "text",
    [
        "我要投诉",
        "帮我开个工单",
        "我要报修",
        "我要提交退款申请",
        "幫我開個工單",
        "我要留言",
        "请帮我创建一个维修工单",
        "网断了",
        "/create_ticket",
        "",
    ],
)
def test_a_bare_request_has_no_description(text):
    assert description_in_request(text) is None


@pytest.mark.parametrize(
    "text, category",
    [
        ("我要投诉，宽带三天没修好", "complaint"),
        ("发票開錯了", "billing"),
        ("我要申请退款", "refund"),
        ("宽带坏了", "fault"),
        ("帮我开个工单", None),
        ("/create_ticket", None),
    ],
)
def test_the_category_a_message_names(text, category):
    assert find_category(text) == category


@pytest.mark.parametrize(
    "text, phone",
    [
        ("13812345678", "13812345678"),
        ("我电话是138 1234 5678", "13812345678"),
        ("+86 139-1234-5678", "13912345678"),
        ("座机028-85551234", "02885551234"),
        ("电话：13812345678，谢谢", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("13812345", None),
        ("工单GD-7K3QX9", None),
        ("123456789012", None),
    ],
)
def test_phone_numbers_are_found_anywhere_in_a_message(text, phone):
    assert find_phone(text) == phone


def test_a_phone_answer_without_a_number_is_returned_as_typed_for_validation():
    assert phone_answer("我的电话是13812345678") == "13812345678"
    assert phone_answer("不告诉你") == "不告诉你"


@pytest.mark.parametrize(
    "text, amount",
    [
        ("多扣了我200元，帮我退款", "200"),
        ("￥99.5", "99.5"),
        ("五千块钱", "五千"),
        ("退我1.2万元", "1.2万"),
        ("電話13812345678，退兩百塊", "两百"),
        ("宽带断了三天", None),
        ("13812345678", None),
    ],
)
def test_amounts_are_found_with_their_unit(text, amount):
    assert find_amount(text) == amount


@pytest.mark.parametrize(
    "text, amount",
    [("5000", "5000"), ("大概五千吧", "五千"), ("退我200块", "200"), ("三千五百", "三千五百"), ("不知道", "不知道")],
)
def test_an_amount_answer_may_leave_out_the_unit(text, amount):
    assert amount_answer(text) == amount


@pytest.mark.parametrize(
    "text, name",
    [
        ("我叫张三", "张三"),
        ("叫我小王就行", "小王"),
        ("王先生", "王先生"),
        ("姓名：張偉", "張偉"),
        ("张三，电话13812345678", "张三"),
        ("我是李四", "李四"),
    ],
)
def test_name_answers_lose_their_lead_in(text, name):
    assert name_answer(text) == name


def test_a_volunteered_name_needs_a_clear_lead_in():
    assert find_name("我叫张三，电话13812345678") == "张三"
    assert find_name("联系人是李四电话138") == "李四"
    assert find_name("我是成都的，宽带坏了") is None


@pytest.mark.parametrize(
    "text, region",
    [
        ("我在成都市武侯区", "成都市武侯区"),
        ("成都武侯区这边", "成都武侯区"),
        ("地址是上海市浦东新区", "上海市浦东新区"),
        ("我家住在成都市錦江區", "成都市锦江区"),
    ],
)
def test_region_answers_lose_their_lead_in_and_become_simplified(text, region):
    assert region_answer(text) == region


@pytest.mark.parametrize(
    "text, number",
    [
        ("查一下GD-7K3QX9", "GD-7K3QX9"),
        ("gd7k3qx9", "GD-7K3QX9"),
        ("ＧＤ－７Ｋ３ＱＸ９", "GD-7K3QX9"),
        ("我的工单", None),
    ],
)
def test_ticket_numbers_are_normalised(text, number):
    assert find_ticket_number(text) == number


@pytest.mark.parametrize(
    "text, digits",
    [("5678", "5678"), ("尾号5678", "5678"), ("13812345678", "5678"), ("12 34", "12 34"), ("不记得了", "不记得了")],
)
def test_last4_answers(text, digits):
    assert last4_answer(text) == digits


@pytest.mark.parametrize(
    "text, slot",
    [
        ("phone", "ticket_phone"),
        ("电话写错了", "ticket_phone"),
        ("改一下電話", "ticket_phone"),
        ("问题类型", "ticket_category"),
        ("联系人电话", "ticket_phone"),
        ("联系人", "ticket_name"),
        ("地址不对", "ticket_region"),
        ("問題描述", "ticket_description"),
        ("金額", "ticket_amount"),
        ("ticket_region", "ticket_region"),
        ("改一下", None),
        (None, None),
    ],
)
def test_the_field_a_customer_wants_to_change(text, slot):
    assert field_slot(text) == slot


@pytest.mark.parametrize("text", ["我有个建议想提交", "我要提个建议", "我想反映一个问题", "帮我提交一条留言"])
def test_a_request_in_other_words_has_no_description_either(text):
    assert description_in_request(text) is None
