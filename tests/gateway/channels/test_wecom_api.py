"""WeCom's outgoing message API against a local fake: token caching, refresh, retry policy."""

from __future__ import annotations

import aiohttp
import pytest

from gateway.channels.relay import DeliveryError
from gateway.channels.wecom.api import PermanentSendError, WeComClient
from tests.gateway.channels.fake_wecom import CORP_ID, SECRET, FakeWeCom
from tests.gateway_client import closed_port


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def fake(aiohttp_server):
    fake = FakeWeCom()
    await fake.start(aiohttp_server)
    return fake


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def wecom(fake, clock):
    async with aiohttp.ClientSession() as session:
        yield WeComClient(session, fake.url, CORP_ID, 1000002, SECRET, clock=clock)


async def test_several_sends_share_one_access_token(wecom, fake):
    for text in ("第一条", "第二条", "第三条"):
        await wecom.send_text("zhangsan", text)
    assert fake.tokens_issued == 1
    assert fake.texts_to("zhangsan") == ["第一条", "第二条", "第三条"]
    assert fake.sent[0] == {
        "token": "token-1",
        "touser": "zhangsan",
        "msgtype": "text",
        "agentid": 1000002,
        "text": {"content": "第一条"},
    }


async def test_the_token_is_fetched_again_shortly_before_it_expires(wecom, fake, clock):
    await wecom.send_text("zhangsan", "一")
    clock.now += 7200 - 400  # still well inside its lifetime
    await wecom.send_text("zhangsan", "二")
    assert fake.tokens_issued == 1
    clock.now += 200  # within the safety margin before expiry
    await wecom.send_text("zhangsan", "三")
    assert fake.tokens_issued == 2 and fake.sent[-1]["token"] == "token-2"


async def test_an_expired_token_is_refreshed_once_and_the_message_still_goes_out(wecom, fake):
    await wecom.send_text("zhangsan", "一")
    fake.send_failures = [42001]
    await wecom.send_text("zhangsan", "二")
    assert fake.tokens_issued == 2
    assert fake.texts_to("zhangsan") == ["一", "二"] and fake.sent[-1]["token"] == "token-2"


async def test_a_token_refused_twice_is_retried_later_not_refreshed_forever(wecom, fake):
    fake.send_failures = [40014, 40014]
    with pytest.raises(DeliveryError):
        await wecom.send_text("zhangsan", "一")
    assert fake.tokens_issued == 2 and fake.sent == []


@pytest.mark.parametrize("failure", [-502, -503, -1, 45009])
async def test_server_errors_and_rate_limits_are_delivery_errors_for_the_relay(wecom, fake, failure):
    fake.send_failures = [failure]
    with pytest.raises(DeliveryError):
        await wecom.send_text("zhangsan", "一")


async def test_an_unreachable_api_is_a_delivery_error():
    async with aiohttp.ClientSession() as session:
        client = WeComClient(session, f"http://127.0.0.1:{closed_port()}", CORP_ID, 1, SECRET)
        with pytest.raises(DeliveryError):
            await client.send_text("zhangsan", "一")


async def test_a_wrong_secret_keeps_messages_for_later(fake):
    async with aiohttp.ClientSession() as session:
        client = WeComClient(session, fake.url, CORP_ID, 1, "wrong-secret")
        with pytest.raises(DeliveryError):
            await client.send_text("zhangsan", "一")


async def test_a_permanent_refusal_is_not_retried(wecom, fake):
    fake.send_failures = [81013]  # user, department and tag all invalid
    with pytest.raises(PermanentSendError) as refused:
        await wecom.send_text("nobody", "一")
    assert refused.value.errcode == 81013
