"""WeCom's WXBizMsgCrypt scheme, checked against the platform's documented sample values."""

from __future__ import annotations

import base64

import pytest

from gateway.channels.wecom.crypto import (
    DecryptError,
    InvalidSignature,
    WeComCrypto,
    decode_aes_key,
    pkcs7_pad,
    signature,
)

# The official samples (企业微信 加解密方案 / Sample.* of WXBizMsgCrypt)
S_TOKEN = "QDG6eK"
S_RECEIVE_ID = "wx5823bf96d3bd56c7"
S_ENCODING_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"

S_VERIFY_MSG_SIG = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
S_VERIFY_TIMESTAMP = "1409659589"
S_VERIFY_NONCE = "263014780"
S_VERIFY_ECHO_STR = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
S_ECHO_PLAINTEXT = "1616140317555161061"

S_REQ_MSG_SIG = "477715d11cdb4164915debcba66cb864d751f3e6"
S_REQ_TIMESTAMP = "1409659813"
S_REQ_NONCE = "1372623149"
S_REQ_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3"
    "TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gs"
    "ijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUa"
    "x5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIG"
    "HBZZIs2pDBS8R07+qN+E7Q=="
)
S_REQ_PLAINTEXT = (
    "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n"
    "<FromUserName><![CDATA[mycreate]]></FromUserName>\n"
    "<CreateTime>1409659813</CreateTime>\n"
    "<MsgType><![CDATA[text]]></MsgType>\n"
    "<Content><![CDATA[hello]]></Content>\n"
    "<MsgId>4561255354251345929</MsgId>\n"
    "<AgentID>218</AgentID>\n"
    "</xml>"
)


@pytest.fixture
def crypto() -> WeComCrypto:
    return WeComCrypto(S_TOKEN, S_ENCODING_AES_KEY, S_RECEIVE_ID)


def test_the_documented_url_verification_sample_verifies_and_decrypts_to_its_echo(crypto):
    assert signature(S_TOKEN, S_VERIFY_TIMESTAMP, S_VERIFY_NONCE, S_VERIFY_ECHO_STR) == S_VERIFY_MSG_SIG
    plaintext = crypto.verify_and_decrypt(S_VERIFY_MSG_SIG, S_VERIFY_TIMESTAMP, S_VERIFY_NONCE, S_VERIFY_ECHO_STR)
    assert plaintext == S_ECHO_PLAINTEXT


def test_the_documented_message_sample_has_the_documented_signature_and_plaintext(crypto):
    assert crypto.sign(S_REQ_TIMESTAMP, S_REQ_NONCE, S_REQ_ENCRYPT) == S_REQ_MSG_SIG
    assert crypto.verify_and_decrypt(S_REQ_MSG_SIG, S_REQ_TIMESTAMP, S_REQ_NONCE, S_REQ_ENCRYPT) == S_REQ_PLAINTEXT


def test_encryption_with_a_fixed_prefix_matches_the_platforms_sample_ciphertext():
    # the platform's Java SDK test (WXBizMsgCryptTest): the same scheme with random prefix "aaaabbbbccccdddd"
    crypto = WeComCrypto("pamtest", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wxb11529c136998cb6")
    assert crypto.encrypt("我是中文abcd123", b"aaaabbbbccccdddd") == (
        "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
    )


def test_messages_survive_a_round_trip_and_each_encryption_differs(crypto):
    message = "<xml><Content><![CDATA[你好,发票怎么开?]]></Content></xml>" * 7
    first, second = crypto.encrypt(message), crypto.encrypt(message)
    assert first != second
    assert crypto.decrypt(first) == crypto.decrypt(second) == message
    assert len(base64.b64decode(first)) % 32 == 0


def test_a_signature_that_does_not_match_is_refused(crypto):
    with pytest.raises(InvalidSignature):
        crypto.verify(S_REQ_MSG_SIG, S_REQ_TIMESTAMP, "1372623150", S_REQ_ENCRYPT)
    with pytest.raises(InvalidSignature):
        crypto.verify("", S_REQ_TIMESTAMP, S_REQ_NONCE, S_REQ_ENCRYPT)


def test_a_message_for_another_corporation_is_refused():
    other = WeComCrypto(S_TOKEN, S_ENCODING_AES_KEY, "ww0000000000000000")
    with pytest.raises(DecryptError, match="another receiver"):
        other.decrypt(S_REQ_ENCRYPT)


@pytest.mark.parametrize("encrypted", ["not base64!", "", "QUJD", base64.b64encode(b"x" * 17).decode()])
def test_text_that_is_not_an_aes_ciphertext_is_a_decrypt_error(crypto, encrypted):
    with pytest.raises(DecryptError):
        crypto.decrypt(encrypted)


def test_bad_padding_is_a_decrypt_error_not_a_crash(crypto):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = decode_aes_key(S_ENCODING_AES_KEY)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    ciphertext = encryptor.update(b"\x00" * 31 + b"\x21") + encryptor.finalize()  # pad byte 33 > 32
    with pytest.raises(DecryptError, match="padding"):
        crypto.decrypt(base64.b64encode(ciphertext).decode())


def test_padding_fills_to_32_byte_blocks():
    assert pkcs7_pad(b"a" * 31) == b"a" * 31 + b"\x01"
    assert pkcs7_pad(b"a" * 32) == b"a" * 32 + b"\x20" * 32


@pytest.mark.parametrize("key", ["short", S_ENCODING_AES_KEY[:-1] + "!"])
def test_an_unusable_encoding_aes_key_is_a_configuration_error(key):
    with pytest.raises(ValueError):
        WeComCrypto(S_TOKEN, key, S_RECEIVE_ID)
