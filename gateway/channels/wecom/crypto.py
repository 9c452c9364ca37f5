"""WeCom (企业微信) callback security: the platform's documented WXBizMsgCrypt scheme, and nothing else.

- signature = sha1 of the lexicographically sorted concatenation of token, timestamp, nonce and the
  encrypted text (``msg_signature`` in the callback URL);
- AES-256-CBC, key = base64decode(EncodingAESKey + "="), IV = the key's first 16 bytes, PKCS#7 padding
  to 32-byte blocks, the result base64-encoded;
- plaintext = 16 random bytes + the message length (4 bytes, big-endian) + the message + the receive id
  (the CorpID for a self-built app).

Bad input raises :class:`InvalidSignature` or :class:`DecryptError`; no HTTP here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

AES_KEY_CHARS = 43
PAD_BLOCK = 32
RANDOM_BYTES = 16


class WeComCryptoError(Exception):
    """A callback's security envelope is not acceptable."""


class InvalidSignature(WeComCryptoError):
    """``msg_signature`` does not match: the request did not come from WeCom, or was altered."""


class DecryptError(WeComCryptoError):
    """The encrypted text is not base64, not a whole number of AES blocks, badly padded, or for another receiver."""


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """The ``msg_signature`` WeCom computes for these values."""
    return hashlib.sha1("".join(sorted((token, timestamp, nonce, encrypted))).encode("utf-8")).hexdigest()


def pkcs7_pad(data: bytes, block: int = PAD_BLOCK) -> bytes:
    amount = block - len(data) % block
    return data + bytes([amount]) * amount


def pkcs7_unpad(data: bytes, block: int = PAD_BLOCK) -> bytes:
    if not data:
        raise DecryptError("empty plaintext")
    amount = data[-1]
    if not 1 <= amount <= block or amount > len(data) or data[-amount:] != bytes([amount]) * amount:
        raise DecryptError("bad padding")
    return data[:-amount]


def decode_aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key of a 43-character EncodingAESKey; ValueError if it is not one."""
    if len(encoding_aes_key) != AES_KEY_CHARS:
        raise ValueError(f"the EncodingAESKey must be {AES_KEY_CHARS} characters, got {len(encoding_aes_key)}")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error:
        raise ValueError("the EncodingAESKey is not base64 (letters and digits)") from None
    if len(key) != 32:
        raise ValueError("the EncodingAESKey does not decode to a 32-byte AES key")
    return key


class WeComCrypto:
    """Signs, verifies, encrypts and decrypts for one app (Token, EncodingAESKey, CorpID)."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        if not token:
            raise ValueError("the callback Token is empty")
        self.token = token
        self.receive_id = receive_id
        self._key = decode_aes_key(encoding_aes_key)

    def sign(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return signature(self.token, timestamp, nonce, encrypted)

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        """Raise InvalidSignature unless ``msg_signature`` is WeCom's signature of these values."""
        expected = self.sign(timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected.encode("ascii"), msg_signature.lower().encode("utf-8", "replace")):
            raise InvalidSignature("msg_signature does not match")

    def encrypt(self, message: str, random_prefix: bytes | None = None) -> str:
        """The base64 ciphertext of ``message`` addressed to this app's receive id."""
        prefix = os.urandom(RANDOM_BYTES) if random_prefix is None else random_prefix
        if len(prefix) != RANDOM_BYTES:
            raise ValueError(f"the random prefix must be {RANDOM_BYTES} bytes")
        body = message.encode("utf-8")
        plain = pkcs7_pad(prefix + struct.pack(">I", len(body)) + body + self.receive_id.encode("utf-8"))
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")

    def decrypt(self, encrypted: str) -> str:
        """The message inside ``encrypted``; DecryptError if it is damaged or meant for another receiver."""
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError):
            raise DecryptError("the encrypted text is not base64") from None
        if not raw or len(raw) % 16:
            raise DecryptError("the encrypted text is not a whole number of AES blocks")
        decryptor = self._cipher().decryptor()
        plain = pkcs7_unpad(decryptor.update(raw) + decryptor.finalize())
        if len(plain) < RANDOM_BYTES + 4:
            raise DecryptError("the plaintext is too short")
        (length,) = struct.unpack(">I", plain[RANDOM_BYTES : RANDOM_BYTES + 4])
        start = RANDOM_BYTES + 4
        if start + length > len(plain):
            raise DecryptError("the message length is larger than the plaintext")
        receive_id = plain[start + length :]
        if not hmac.compare_digest(receive_id, self.receive_id.encode("utf-8")):
            raise DecryptError("the message is addressed to another receiver")
        try:
            return plain[start : start + length].decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptError("the message is not UTF-8") from None

    def verify_and_decrypt(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> str:
        self.verify(msg_signature, timestamp, nonce, encrypted)
        return self.decrypt(encrypted)

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))
