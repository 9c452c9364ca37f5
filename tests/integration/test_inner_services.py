"""Rasa's own HTTP API (trackers with every slot, /model/parse) answers only to holders of its token."""

from __future__ import annotations

import pytest

from tests.integration.client import Customer, request

pytestmark = pytest.mark.integration


def test_rasa_trackers_need_the_token_the_supervisor_gave_rasa(stack):
    customer = Customer(stack.settings.gateway_url)
    customer.say("你们的服务时间是几点到几点")
    tracker = f"{stack.settings.rasa_url}/conversations/{customer.sender}/tracker"
    assert request("GET", tracker).status == 401
    assert request("GET", f"{tracker}?token=wrong-token").status == 401
    allowed = request("GET", f"{tracker}?token={stack.settings.rasa_token.reveal()}")
    assert allowed.status == 200 and allowed.body["sender_id"] == customer.sender


def test_rasa_parses_text_only_for_the_token_holder(stack):
    parse = f"{stack.settings.rasa_url}/model/parse"
    assert request("POST", parse, {"text": "转人工"}).status == 401
    assert request("POST", f"{parse}?token={stack.settings.rasa_token.reveal()}", {"text": "转人工"}).status == 200
