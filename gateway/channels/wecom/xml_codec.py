"""The XML of WeCom callbacks: the outer envelope (``<Encrypt>``) and the decrypted message inside.

Parsed with the standard library's expat parser after refusing any document type declaration, so
no entity (external or nested) is ever expanded; sizes are capped. Errors are :class:`XmlError`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

MAX_XML_BYTES = 64 * 1024
MAX_USER_ID_CHARS = 64
_DECLARATION = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_USER_ID = re.compile(rf"[^\s\x00-\x1f\x7f]{{1,{MAX_USER_ID_CHARS}}}")


class XmlError(ValueError):
    """The callback's XML is malformed, too large, or lacks a field it must have."""


@dataclass(frozen=True)
class WeComMessage:
    """A decrypted callback message (the fields GridDesk reads)."""

    user_id: str  # FromUserName: the member's UserID
    msg_type: str  # text, image, voice, video, location, link, event…
    content: str  # Content of a text message ("" otherwise)
    msg_id: str  # MsgId ("" for events)
    agent_id: str  # AgentID
    create_time: int  # CreateTime (unix seconds; 0 if absent)
    event: str = ""  # Event of an event message


def parse_xml(raw: bytes | str) -> ET.Element:
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    if len(data) > MAX_XML_BYTES:
        raise XmlError("the XML is too large")
    if _DECLARATION.search(data):
        raise XmlError("document type declarations are not accepted")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise XmlError(f"malformed XML: {exc}") from None
    if root.tag != "xml":
        raise XmlError("the root element must be <xml>")
    return root


def _text(root: ET.Element, name: str) -> str:
    element = root.find(name)
    return (element.text or "").strip() if element is not None else ""


def encrypted_of(body: bytes) -> str:
    """The ``<Encrypt>`` text of a callback request body."""
    encrypted = _text(parse_xml(body), "Encrypt")
    if not encrypted:
        raise XmlError("the body has no <Encrypt> element")
    return encrypted


def parse_message(plaintext: str) -> WeComMessage:
    """The message of a decrypted callback."""
    root = parse_xml(plaintext)
    user_id, msg_type = _text(root, "FromUserName"), _text(root, "MsgType").lower()
    if not _USER_ID.fullmatch(user_id):
        raise XmlError("FromUserName is missing or not a UserID")
    if not msg_type:
        raise XmlError("MsgType is missing")
    created = _text(root, "CreateTime")
    content = root.find("Content")
    return WeComMessage(
        user_id=user_id,
        msg_type=msg_type,
        content=(content.text or "") if content is not None and msg_type == "text" else "",
        msg_id=_text(root, "MsgId"),
        agent_id=_text(root, "AgentID"),
        create_time=int(created) if created.isdigit() else 0,
        event=_text(root, "Event"),
    )
