"""Transcript messages as WeCom texts: numbered buttons, pieces within 2048 bytes."""

from __future__ import annotations

from gateway.channels.wecom.text import MAX_TEXT_BYTES, render, split_text


def test_buttons_become_numbered_lines_after_the_text():
    message = {
        "seq": 3,
        "author": "bot",
        "text": "您想了解哪一项?",
        "payload": {
            "text": "您想了解哪一项?",
            "buttons": [
                {"title": "发票怎么开", "payload": "/faq_invoice"},
                {"title": "转人工", "payload": "/request_human"},
            ],
        },
    }
    assert render(message) == "您想了解哪一项?\n回复数字选择：\n1. 发票怎么开\n2. 转人工"


def test_an_image_is_sent_as_its_link_and_an_empty_custom_payload_as_nothing():
    assert render({"text": None, "payload": {"image": "https://example.com/a.png"}}) == "https://example.com/a.png"
    assert render({"text": None, "payload": {"custom": {"kind": "card"}}}) == ""


def test_long_texts_are_split_within_the_byte_limit_without_losing_a_character():
    text = "\n".join(f"第{i}行:" + "发票" * 40 for i in range(60))
    pieces = split_text(text)
    assert len(pieces) > 1
    assert all(len(p.encode("utf-8")) <= MAX_TEXT_BYTES for p in pieces)
    assert "\n".join(pieces) == text


def test_a_single_line_longer_than_the_limit_is_cut_between_characters():
    text = "票" * 1000  # 3000 bytes
    pieces = split_text(text)
    assert [len(p.encode("utf-8")) for p in pieces] == [2046, 954]
    assert "".join(pieces) == text


def test_a_short_text_is_one_piece():
    assert split_text("您好") == ["您好"]
    assert split_text("") == []
