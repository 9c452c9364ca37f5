"""The WeCom channel through the gateway: callback verification, messages in, replies out via a fake API.

Rasa is not running (the gateway's Rasa URL points at a closed port), so a text message is recorded
and answered with the bot-unavailable notice, which the relay delivers through the fake message API.
"""

from __future__ import annotations

import dataclasses
import time
from urllib.parse import quote

import pytest
from sqlalchemy import select

from conversations.models import Author, Conversation, MessageStatus
from conversations.transcript import append_messages, get_or_create_conversation, transcript
from gateway.app import create_app
from gateway.channels.wecom import channel as wecom
from gateway.channels.wecom.channel import wecom_key
from gateway.channels.wecom.crypto import WeComCrypto
from griddesk.db import session_scope
from griddesk.settings import Secret, SettingsError
from handoff import messages
from knowledge_base.search import KnowledgeBase
from tests.encoders import HashingEncoder
from tests.gateway.channels.fake_wecom import CORP_ID, SECRET, FakeWeCom
from tests.gateway.channels.test_wecom_crypto import (
    S_ECHO_PLAINTEXT,
    S_ENCODING_AES_KEY,
    S_TOKEN,
    S_VERIFY_ECHO_STR,
    S_VERIFY_MSG_SIG,
    S_VERIFY_NONCE,
    S_VERIFY_TIMESTAMP,
)

AGENT_ID = "1000002"
PATH = "/webhooks/wecom"
CRYPTO = WeComCrypto(S_TOKEN, S_ENCODING_AES_KEY, CORP_ID)


def wecom_settings(settings, api_url: str):
    return dataclasses.replace(
        settings,
        wecom_corp_id=CORP_ID,
        wecom_agent_id=AGENT_ID,
        wecom_secret=Secret(SECRET),
        wecom_token=Secret(S_TOKEN),
        wecom_aes_key=Secret(S_ENCODING_AES_KEY),
        wecom_api_url=api_url,
        queue_sweep_seconds=3600,
    )


@pytest.fixture
async def fake(aiohttp_server):
    fake = FakeWeCom()
    await fake.start(aiohttp_server)
    return fake


@pytest.fixture
async def gateway(aiohttp_client, gateway_settings, fake):
    settings = wecom_settings(gateway_settings, fake.url)
    kb = KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0)
    app = create_app(settings, knowledge_base=kb, warm_index=False, watch_overdue=False)
    assert wecom_key in app  # create_app mounts a configured channel
    return await aiohttp_client(app)


def message_xml(
    user: str,
    msg_type: str = "text",
    content: str = "",
    msg_id: str = "1001",
    agent_id: str = AGENT_ID,
    extra: str = "",
) -> str:
    body = f"<Content><![CDATA[{content}]]></Content>" if msg_type == "text" else extra
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{body}"
        f"<MsgId>{msg_id}</MsgId><AgentID>{agent_id}</AgentID></xml>"
    )


def callback(
    inner: str,
    crypto: WeComCrypto = CRYPTO,
    timestamp: int | None = None,
    nonce: str = "1372623149",
    signature: str | None = None,
) -> tuple[dict[str, str], str]:
    """The query parameters and body WeCom would POST for the message ``inner``."""
    encrypted = crypto.encrypt(inner)
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    params = {"msg_signature": signature or crypto.sign(stamp, nonce, encrypted), "timestamp": stamp, "nonce": nonce}
    body = (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
        f"<AgentID><![CDATA[{AGENT_ID}]]></AgentID></xml>"
    )
    return params, body


async def post(gateway, inner: str, **kwargs):
    params, body = callback(inner, **kwargs)
    response = await gateway.post(PATH, params=params, data=body.encode("utf-8"))
    await gateway.app[wecom_key].idle()
    return response


def entries(sender: str) -> list[tuple[str, str | None]]:
    with session_scope() as session:
        return [(str(m.author), m.text) for m in transcript(session, sender)]


# -- URL verification ---------------------------------------------------------------------------


async def test_url_verification_answers_the_decrypted_echostr_of_the_documented_sample(gateway):
    query = (
        f"msg_signature={S_VERIFY_MSG_SIG}&timestamp={S_VERIFY_TIMESTAMP}&nonce={S_VERIFY_NONCE}"
        f"&echostr={quote(S_VERIFY_ECHO_STR, safe='')}"
    )
    response = await gateway.get(f"{PATH}?{query}")
    assert response.status == 200
    assert response.content_type == "text/plain"
    assert await response.text() == S_ECHO_PLAINTEXT


async def test_url_verification_with_a_forged_signature_is_refused(gateway):
    response = await gateway.get(
        PATH,
        params={
            "msg_signature": "0" * 40,
            "timestamp": S_VERIFY_TIMESTAMP,
            "nonce": S_VERIFY_NONCE,
            "echostr": S_VERIFY_ECHO_STR,
        },
    )
    assert response.status == 401
    assert S_ECHO_PLAINTEXT not in await response.text()


# -- messages in --------------------------------------------------------------------------------


async def test_a_text_message_reaches_the_inbox_and_the_answer_goes_out_through_the_message_api(gateway, fake):
    response = await post(gateway, message_xml("zhangsan", content="发票怎么开?"))
    assert response.status == 200 and await response.text() == ""
    assert entries("wecom:zhangsan") == [("customer", "发票怎么开?"), ("system", messages.BOT_UNAVAILABLE)]
    with session_scope() as session:
        conversation = session.scalars(select(Conversation).where(Conversation.sender_id == "wecom:zhangsan")).one()
        assert conversation.channel == "wecom"
    await fake.wait_for(1)
    assert fake.sent[0]["touser"] == "zhangsan" and fake.sent[0]["agentid"] == int(AGENT_ID)
    assert fake.texts_to("zhangsan") == [messages.BOT_UNAVAILABLE]


async def test_a_message_with_a_forged_signature_is_refused_and_nothing_is_recorded(gateway):
    response = await post(gateway, message_xml("zhangsan", content="你好"), signature="f" * 40)
    assert response.status == 401
    other_token = WeComCrypto("not-the-token", S_ENCODING_AES_KEY, CORP_ID)
    assert (await post(gateway, message_xml("zhangsan", content="你好"), crypto=other_token)).status == 401
    assert entries("wecom:zhangsan") == []


async def test_a_replayed_message_is_handled_only_once(gateway):
    params, body = callback(message_xml("zhangsan", content="你好", msg_id="777"))
    for _ in range(2):  # WeCom's own retry, or an attacker's replay within the window
        response = await gateway.post(PATH, params=params, data=body.encode("utf-8"))
        assert response.status == 200
        await gateway.app[wecom_key].idle()
    assert [text for author, text in entries("wecom:zhangsan") if author == "customer"] == ["你好"]


async def test_a_request_older_than_five_minutes_is_refused(gateway):
    response = await post(gateway, message_xml("zhangsan", content="你好"), timestamp=int(time.time()) - 600)
    assert response.status == 403
    assert entries("wecom:zhangsan") == []


@pytest.mark.parametrize(
    "body",
    [
        "这不是 XML",
        "<xml><ToUserName>x</ToUserName></xml>",  # no <Encrypt>
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>',
        '<!DOCTYPE xml [<!ENTITY e "QUJD">]><xml><Encrypt>&e;</Encrypt></xml>',  # entities are never expanded
    ],
)
async def test_bodies_that_are_not_callback_xml_are_rejected(gateway, body):
    params = {"msg_signature": "0" * 40, "timestamp": str(int(time.time())), "nonce": "1"}
    response = await gateway.post(PATH, params=params, data=body.encode("utf-8"))
    assert response.status == 400


async def test_signed_text_that_does_not_decrypt_is_rejected_not_a_crash(gateway):
    stamp, nonce = str(int(time.time())), "42"
    for encrypted in ("bm90IGFuIGFlcyBibG9jaw==", "not*base64"):
        params = {"msg_signature": CRYPTO.sign(stamp, nonce, encrypted), "timestamp": stamp, "nonce": nonce}
        body = f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        assert (await gateway.post(PATH, params=params, data=body.encode())).status == 400


async def test_a_message_for_another_corporation_is_rejected(gateway):
    other_corp = WeComCrypto(S_TOKEN, S_ENCODING_AES_KEY, "ww0000000000000000")
    response = await post(gateway, message_xml("zhangsan", content="你好"), crypto=other_corp)
    assert response.status == 400
    assert entries("wecom:zhangsan") == []


async def test_missing_parameters_are_a_bad_request(gateway):
    assert (await gateway.post(PATH, data=b"<xml/>")).status == 400
    assert (await gateway.get(PATH, params={"msg_signature": "x"})).status == 400


async def test_an_image_gets_a_polite_reply_through_the_message_api(gateway, fake):
    image = message_xml(
        "lisi",
        "image",
        extra="<PicUrl><![CDATA[http://example.com/a.jpg]]></PicUrl><MediaId><![CDATA[media]]></MediaId>",
    )
    assert (await post(gateway, image)).status == 200
    assert entries("wecom:lisi") == [("customer", "[图片]"), ("system", messages.UNSUPPORTED_MESSAGE)]
    await fake.wait_for(1)
    assert fake.texts_to("lisi") == [messages.UNSUPPORTED_MESSAGE]


async def test_a_message_for_another_app_of_the_corporation_is_ignored(gateway):
    assert (await post(gateway, message_xml("lisi", content="你好", agent_id="999"))).status == 200
    assert entries("wecom:lisi") == []


async def test_an_event_is_acknowledged_and_ignored(gateway, fake):
    event = message_xml("lisi", "event", msg_id="", extra="<Event><![CDATA[enter_agent]]></Event>")
    assert (await post(gateway, event)).status == 200
    assert entries("wecom:lisi") == []


async def test_a_number_picks_the_button_of_the_last_outgoing_message(gateway):
    with session_scope() as session:
        conversation = get_or_create_conversation(session, "wecom:wangwu", "wecom")
        buttons = [{"title": "发票怎么开", "payload": "/faq_invoice"}, {"title": "转人工", "payload": "/request_human"}]
        append_messages(
            session,
            conversation.id,
            [
                (Author.CUSTOMER, "发票", None, MessageStatus.ANSWERED),
                (Author.BOT, "您想了解哪一项?", {"text": "您想了解哪一项?", "buttons": buttons}, MessageStatus.SENT),
            ],
        )
        conversation.delivered_seq = 2
    assert (await post(gateway, message_xml("wangwu", content="1"))).status == 200
    assert entries("wecom:wangwu")[2] == ("customer", "发票怎么开")  # the title of the button it sent


async def test_replies_with_buttons_are_numbered_and_long_replies_split(gateway, fake):
    with session_scope() as session:
        conversation = get_or_create_conversation(session, "wecom:zhaoliu", "wecom")
        append_messages(
            session,
            conversation.id,
            [
                (Author.AGENT, "票" * 1000, {"text": "票" * 1000}, MessageStatus.SENT),
                (
                    Author.BOT,
                    "请选择",
                    {"text": "请选择", "buttons": [{"title": "继续等待", "payload": "/x"}]},
                    MessageStatus.SENT,
                ),
            ],
        )
    await fake.wait_for(3)
    assert fake.texts_to("zhaoliu") == ["票" * 682, "票" * 318, "请选择\n回复数字选择：\n1. 继续等待"]


# -- settings -----------------------------------------------------------------------------------


async def test_without_wecom_settings_the_callback_is_not_mounted(client):
    assert wecom_key not in client.app
    assert (await client.get(PATH)).status == 404


def test_half_configured_wecom_settings_are_a_startup_error(gateway_settings):
    settings = dataclasses.replace(gateway_settings, wecom_corp_id=CORP_ID, wecom_token=Secret(S_TOKEN))
    with pytest.raises(SettingsError, match="GRIDDESK_WECOM_SECRET"):
        wecom.wecom_config(settings)
    with pytest.raises(SettingsError, match="AgentId"):
        wecom.wecom_config(dataclasses.replace(wecom_settings(gateway_settings, "http://x"), wecom_agent_id="abc"))


async def test_a_message_over_the_limit_is_refused_with_a_clear_reply(gateway, fake):
    assert (await post(gateway, message_xml("lisi", content="长" * 2001))).status == 200
    assert entries("wecom:lisi") == [
        ("customer", "[过长的消息：2001 字，未发送]"),
        ("system", messages.message_too_long(2000)),
    ]
