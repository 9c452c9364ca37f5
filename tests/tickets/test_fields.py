from decimal import Decimal

import pytest

from tickets.fields import (
    InvalidField,
    normalize_phone,
    parse_amount,
    parse_category,
    parse_description,
    parse_name,
    parse_region,
)
from tickets.models import Category


@pytest.mark.parametrize(
    "text, expected",
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("028-85551234", "02885551234"),
        ("(010)12345678", "01012345678"),
    ],
)
def test_phones_are_normalised(text, expected):
    assert normalize_phone(text) == expected


@pytest.mark.parametrize("text", ["12345", "23812345678", "1381234567", "电话", "", "138123456789", 13812345678])
def test_bad_phones_are_refused(text):
    with pytest.raises(InvalidField) as info:
        normalize_phone(text)
    assert info.value.reason in ("invalid_phone", "not_text")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("投诉", Category.COMPLAINT),
        ("我要投訴", Category.COMPLAINT),
        ("故障报修", Category.FAULT),
        ("发票开错了", Category.BILLING),
        ("退款/赔偿", Category.REFUND),
        ("refund", Category.REFUND),
        ("提个建议", Category.SUGGESTION),
        ("售后", Category.AFTER_SALES),
        ("咨询", Category.CONSULTATION),
    ],
)
def test_categories_are_recognised_from_labels_and_words(text, expected):
    assert parse_category(text) == expected


@pytest.mark.parametrize("text", ["修改套餐", "门票", "随便"])
def test_words_that_only_contain_a_keyword_character_are_not_a_category(text):
    with pytest.raises(InvalidField):
        parse_category(text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("5000", "5000.00"),
        ("5,000元", "5000.00"),
        ("￥5000.5", "5000.50"),
        ("五千", "5000.00"),
        ("5千", "5000.00"),
        ("1.2万", "12000.00"),
        ("三千五百块", "3500.00"),
        ("两百", "200.00"),
    ],
)
def test_amounts_are_read_in_yuan(text, expected):
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["0", "-5", "很多钱", "1e99", "", "NaN", "Infinity", "0.001", "1e-9"])
def test_bad_amounts_are_refused(text):
    with pytest.raises(InvalidField):
        parse_amount(text)


def test_names_regions_and_descriptions_are_checked():
    assert parse_name(" 张三 ") == "张三"
    assert parse_region("成都市 武侯區") == "成都市武侯区"
    assert parse_description("宽带断网两天了，重启也没用") == "宽带断网两天了，重启也没用"
    for parse, text in [
        (parse_name, "138"),
        (parse_name, "x" * 40),
        (parse_region, "a"),
        (parse_region, "12"),
        (parse_description, "坏了"),
        (parse_description, "长" * 1001),
    ]:
        with pytest.raises(InvalidField):
            parse(text)
