"""Telegram and WeCom customers against the real stack (Rasa, action server, gateway); the platforms
themselves are local fakes recording what the gateway sends (tests/integration/platforms.py): an FAQ
answered, buttons, and a handoff round trip in which the agent's reply goes out through the channel."""

from __future__ import annotations

import json
import random
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from accounts.management import create_account
from accounts.models import Role
from gateway.channels.wecom.crypto import WeComCrypto
from griddesk.db import make_engine
from grids.models import Agent, AgentStatus, GridMembership
from tests.gateway.channels import fake_wecom
from tests.integration.client import Staff, request
from tests.integration.platforms import (
    TELEGRAM_SECRET,
    WECOM_AES_KEY,
    WECOM_AGENT_ID,
    WECOM_TOKEN,
)

pytestmark = pytest.mark.integration

UPDATES = Path(__file__).resolve().parent.parent / "gateway" / "channels" / "data" / "telegram"
PASSWORD = "channels-pass-123"


@pytest.fixture(scope="module")
def agent(stack) -> Staff:
    """An online agent of the catch-all grid (customers of messaging apps send no region)."""
    engine = make_engine(stack.settings.database_url)
    with Session(engine) as session, session.begin():
        account = create_account(session, "it.channels", "渠道客服", Role.AGENT, PASSWORD)
        session.add(Agent(account_id=account.id, skills=["general"], max_chats=5, status=AgentStatus.ONLINE))
        session.add(GridMembership(grid_code="central", account_id=account.id))
    engine.dispose()
    return Staff(stack.settings.gateway_url, "it.channels", PASSWORD)


def eventually(check: Callable[[], object], seconds: float = 20) -> object:
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def accept_and_reply(agent: Staff, channel: str, text: str) -> int:
    """The agent takes the waiting conversation of that channel and answers it; returns the handoff id."""
    item = eventually(
        lambda: next((i for i in agent.get("/api/v1/console/queue").body["items"] if i["channel"] == channel), None)
    )
    assert item, f"no {channel} customer in the queue"
    assert agent.post(f"/api/v1/console/handoffs/{item['handoff_id']}/accept").status == 200
    assert agent.post(f"/api/v1/console/handoffs/{item['handoff_id']}/messages", {"text": text}).status == 201
    return item["handoff_id"]


# --- Telegram ---------------------------------------------------------------------------------------


def telegram_update(stack, chat_id: int, text: str) -> None:
    update = json.loads((UPDATES / "message_text.json").read_text(encoding="utf-8"))
    update["update_id"] = random.randrange(10**9)
    update["message"]["chat"]["id"] = update["message"]["from"]["id"] = chat_id
    update["message"]["text"] = text
    update["message"].pop("entities", None)
    reply = request(
        "POST",
        f"{stack.settings.gateway_url}/webhooks/telegram",
        update,
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
    )
    assert reply.status == 200, reply.body


def telegram_texts(platforms, chat_id: int) -> list[str]:
    return [body["text"] for body in platforms.telegram.sent() if body.get("chat_id") == chat_id]


def test_a_telegram_customer_gets_faq_answers_buttons_and_an_agent(stack, platforms, agent):
    chat = random.randrange(10**6, 10**7)
    telegram_update(stack, chat, "客服电话是多少")
    assert eventually(lambda: any("400-800-1234" in t for t in telegram_texts(platforms, chat)))
    answer = next(b for b in platforms.telegram.sent() if b.get("chat_id") == chat and "400-800-1234" in b["text"])
    keyboard = answer["reply_markup"]["inline_keyboard"]
    assert [button["text"] for row in keyboard for button in row] == ["有帮助", "没帮助"]

    telegram_update(stack, chat, "转人工")
    assert eventually(lambda: any("前面" in t or "第一位" in t for t in telegram_texts(platforms, chat)))
    handoff_id = accept_and_reply(agent, "telegram", "您好,我是人工客服,请问哪里需要帮助?")
    assert eventually(lambda: any("我是人工客服" in t for t in telegram_texts(platforms, chat)))
    telegram_update(stack, chat, "宽带断了")
    messages = agent.get(f"/api/v1/console/handoffs/{handoff_id}").body["messages"]
    assert eventually(
        lambda: agent.get(f"/api/v1/console/handoffs/{handoff_id}").body["messages"][-1]["text"] == "宽带断了"
    ), messages
    assert agent.post(f"/api/v1/console/handoffs/{handoff_id}/close").status == 200


def test_a_forged_telegram_update_is_refused(stack):
    update = json.loads((UPDATES / "message_text.json").read_text(encoding="utf-8"))
    reply = request(
        "POST",
        f"{stack.settings.gateway_url}/webhooks/telegram",
        update,
        headers={"X-Telegram-Bot-Api-Secret-Token": "guess"},
    )
    assert reply.status == 401


# --- WeCom -------------------------------------------------------------------------------------------

CRYPTO = WeComCrypto(WECOM_TOKEN, WECOM_AES_KEY, fake_wecom.CORP_ID)


def wecom_message(stack, user: str, text: str) -> None:
    inner = (
        f"<xml><ToUserName><![CDATA[{fake_wecom.CORP_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>{int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>"
        f"<MsgId>{random.randrange(10**15)}</MsgId><AgentID>{WECOM_AGENT_ID}</AgentID></xml>"
    )
    encrypted = CRYPTO.encrypt(inner)
    stamp, nonce = str(int(time.time())), str(random.randrange(10**9))
    query = urllib.parse.urlencode(
        {"msg_signature": CRYPTO.sign(stamp, nonce, encrypted), "timestamp": stamp, "nonce": nonce}
    )
    body = (
        f"<xml><ToUserName><![CDATA[{fake_wecom.CORP_ID}]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    )
    req = urllib.request.Request(
        f"{stack.settings.gateway_url}/webhooks/wecom?{query}",
        data=body.encode(),
        method="POST",
        headers={"Content-Type": "application/xml"},
    )
    with urllib.request.urlopen(req, timeout=30) as response:
        assert response.status == 200


def test_a_wecom_customer_gets_faq_answers_numbered_choices_and_an_agent(stack, platforms, agent):
    user = f"zhangsan{random.randrange(10**6)}"
    wecom_message(stack, user, "客服电话是多少")
    assert eventually(lambda: any("400-800-1234" in t for t in platforms.wecom.texts_to(user)))
    answer = next(t for t in platforms.wecom.texts_to(user) if "400-800-1234" in t)
    assert "1. 有帮助" in answer and "2. 没帮助" in answer  # buttons as numbered choices
    wecom_message(stack, user, "1")  # 有帮助
    assert eventually(lambda: any("感谢您的反馈" in t for t in platforms.wecom.texts_to(user)))

    wecom_message(stack, user, "转人工")
    assert eventually(lambda: any("第一位" in t or "前面" in t for t in platforms.wecom.texts_to(user)))
    handoff_id = accept_and_reply(agent, "wecom", "您好,企业微信这边由我为您服务。")
    assert eventually(lambda: any("由我为您服务" in t for t in platforms.wecom.texts_to(user)))
    assert agent.post(f"/api/v1/console/handoffs/{handoff_id}/close").status == 200
    assert eventually(lambda: any("打分" in t for t in platforms.wecom.texts_to(user)))
    wecom_message(stack, user, "5")  # the 5th numbered choice: 5 分, with the close notice's one-time token
    assert eventually(lambda: any("感谢您的评价" in t for t in platforms.wecom.texts_to(user)))


def test_the_wecom_callback_url_is_verified_with_the_documented_echostr(stack):
    echostr = CRYPTO.encrypt("1616140317555161061")
    stamp, nonce = str(int(time.time())), "1372623149"
    query = urllib.parse.urlencode(
        {"msg_signature": CRYPTO.sign(stamp, nonce, echostr), "timestamp": stamp, "nonce": nonce, "echostr": echostr}
    )
    with urllib.request.urlopen(f"{stack.settings.gateway_url}/webhooks/wecom?{query}", timeout=10) as response:
        assert response.read().decode() == "1616140317555161061"
