"""The shape of the sender ids the web channels accept: at least 128 random bits, or the legacy 1–128 rule."""

from __future__ import annotations

import pytest

from griddesk.web.errors import ApiError
from griddesk.web.params import check_sender, is_random_id

# secrets.token_urlsafe(96): 128 characters
LONGEST = "93btqs2mJXD_cqGXF709mVDBybMD--rne58Lxx93XSdCvyZF1jr2nlDbXCUALtsr" + (
    "msyh1tCyScOACTzpi_vVR_WYTHlk-Z39Q9-5M779BSLOKKB3rIE2hqqwY5lr-rDy"
)


@pytest.mark.parametrize(
    "sender",
    [
        "2cb42652-6c20-4482-b872-4e987b7eec85",  # crypto.randomUUID() in the chat page
        "9C8354EA-F8EF-46DB-9ABC-AF6958EEB18D",
        "b24d14d4ea884fef924ce93d3841e42a",  # uuid4().hex: what Rasa's and GridDesk's Socket.IO channels issue
        "OZfrfzDyvmEW16v3iVOdGQ",  # secrets.token_urlsafe(16): 22 URL-safe base64 characters
        LONGEST,  # secrets.token_urlsafe(96): 128 characters
        "u1-eb1b04f624cd3d1ef46993b0a4767718",  # a label in front of a random part
    ],
)
def test_random_ids_of_at_least_128_bits_are_accepted(sender):
    assert is_random_id(sender)
    assert check_sender(sender) == sender
    assert check_sender(sender, legacy=True) == sender


@pytest.mark.parametrize(
    "sender",
    [
        "1",
        "test",
        "u1",
        "alice",
        "customer-00000001",
        "b24d14d4ea884fef924ce93d3841e42",  # 31 hex digits: 124 bits at most
        "2cb42652-6c20-4482-b872-4e987b7eec8",  # a UUID missing its last digit
        "abcdefghijklmnopqrstu",  # 21 characters
        "a" * 22,  # the right length, hardly random
        "00000000-0000-0000-0000-000000000000",  # the nil UUID
        "有中文的会话标识有中文的会话标识有中文的会话标识",
        "tg:123456789012345678901234567890",
        "with space 0123456789abcdefghij",
        LONGEST + "x",  # 129 characters
    ],
)
def test_guessable_or_malformed_ids_are_refused_with_a_chinese_message(sender):
    assert not is_random_id(sender)
    with pytest.raises(ApiError) as refused:
        check_sender(sender)
    assert (refused.value.status, refused.value.code, refused.value.field) == (422, "invalid_sender", "sender")
    assert "随机" in refused.value.message and "UUID" in refused.value.message


@pytest.mark.parametrize("sender", ["1", "test", "u1", "alice", "a" * 22, "有中文", "x" * 128])
def test_legacy_mode_keeps_rasas_rule_of_1_to_128_characters(sender):
    assert check_sender(sender, legacy=True) == sender


@pytest.mark.parametrize("sender", ["", "   ", "x" * 129, "a\u0000b", 42, None])
def test_legacy_mode_still_refuses_what_rasa_refuses(sender):
    with pytest.raises(ApiError) as refused:
        check_sender(sender, legacy=True)
    assert refused.value.code == "invalid_sender"
