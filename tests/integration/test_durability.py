"""A Rasa crash loses no dialogue: the ticket form goes on where it was (Rasa's SQL tracker store on the
product's database), and what customers wrote while the bot was down is answered when it is back, in order,
each answer announced (gateway/recovery.py). One crash of the real Rasa serves both customers.
"""

from __future__ import annotations

import os
import re
import signal
import time

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from handoff import messages
from tests.integration.client import Customer
from tickets.models import Ticket

pytestmark = pytest.mark.integration
NUMBER = re.compile(r"GD-[A-Z0-9]{6}")


def _wait_for(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    pytest.fail(f"not within {seconds} s")


def test_a_rasa_crash_keeps_the_form_and_answers_what_was_said_meanwhile(stack):
    in_form, asking = Customer(stack.settings.gateway_url), Customer(stack.settings.gateway_url)
    assert "电话" in in_form.texts("我要投诉，宽带三天没修好")[-1]
    assert "称呼" in in_form.texts("13812345678")[0]

    rasa = stack.service("rasa")
    assert rasa.process is not None
    os.killpg(rasa.process.pid, signal.SIGKILL)
    rasa.process.wait()
    # while it is down: customers are told, their messages kept (one of them the next answer of the form)
    assert asking.texts("你们的营业时间是几点") == [messages.BOT_UNAVAILABLE]
    assert asking.texts("周末也上班吗") == [messages.BOT_UNAVAILABLE]

    stack.restart("rasa")

    # the customer who was asked nothing more gets both answers, in order, without writing again
    def answered() -> bool:
        texts = [m.get("text") or "" for m in asking.history()]
        return sum(1 for m in asking.history() if m["author"] == "bot") >= 2 and any("已恢复" in t for t in texts)

    _wait_for(answered, 60)
    history = asking.history()
    authors = [m["author"] for m in history]
    notice = next(i for i, m in enumerate(history) if "已恢复" in (m.get("text") or ""))
    assert "你们的营业时间是几点" in history[notice]["text"]
    assert "bot" in authors[notice + 1 :] and authors.index("bot") > notice  # answered after the notice
    assert asking.status()["owner"] == "bot"

    # the form goes on where it was: the name is taken and the city asked next
    assert "城市" in in_form.texts("张三")[0]
    in_form.say("成都市武侯区")
    opened = in_form.texts("/affirm")
    match = NUMBER.search(opened[0])
    assert match, opened
    engine = create_engine(stack.settings.database_url)
    try:
        with Session(engine) as session:
            ticket = session.scalars(select(Ticket).where(Ticket.number == match.group(0))).one()
            assert ticket.sender_id == in_form.sender
    finally:
        engine.dispose()
    in_form.say("/griddesk_back_to_bot")
