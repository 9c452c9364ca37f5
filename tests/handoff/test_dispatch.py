"""The dispatcher's rule: which agent a waiting customer is offered to."""

from __future__ import annotations

import pytest

from grids.models import AgentStatus
from handoff.dispatch import AgentLoad, pick_agent

# --- pick_agent: the pure rule --------------------------------------------------------------------


def load(account_id, active=0, max_chats=3, status=AgentStatus.ONLINE, skills=()):
    return AgentLoad(account_id, f"客服{account_id}", status, active, max_chats, tuple(skills), ("cd-wuhou",))


@pytest.mark.parametrize(
    "loads, skill, last_agent, expected",
    [
        ([], None, None, None),  # nobody in the grid
        ([load(1, active=2), load(2, active=1)], None, None, 2),  # least load
        ([load(1, active=1, max_chats=2), load(2, active=1, max_chats=4)], None, None, 2),  # by ratio, not count
        ([load(1, active=0, max_chats=2), load(2, active=0, max_chats=4)], None, None, 1),  # tie on ratio → lowest id
        ([load(1, active=2, max_chats=4), load(2, active=1, max_chats=2)], None, None, 2),  # tie ratio → fewer chats
        ([load(1, active=3), load(2, active=3)], None, None, None),  # everyone at capacity
        ([load(1, status=AgentStatus.OFFLINE), load(2, status=AgentStatus.AWAY)], None, None, None),
        ([load(1, status=AgentStatus.AWAY), load(2, active=2)], None, None, 2),  # away agents get no new chats
        ([load(1), load(2, active=2, skills=["billing"])], "billing", None, 2),  # skill beats load
        ([load(1), load(2, active=3, skills=["billing"])], "billing", None, 1),  # a full specialist: anyone free
        ([load(1), load(2)], "billing", None, 1),  # nobody has the skill: least load
        ([load(1), load(2, active=2)], None, 2, 2),  # the customer's last agent first
        ([load(1), load(2, active=3)], None, 2, 1),  # … unless they are full
        ([load(1), load(2, status=AgentStatus.OFFLINE)], None, 2, 1),  # … or offline
        ([load(1, skills=["billing"]), load(2, active=1)], "billing", 2, 2),  # last agent beats skill
    ],
)
def test_pick_agent_prefers_the_last_agent_then_skill_then_the_least_load(loads, skill, last_agent, expected):
    assert pick_agent(loads, skill, last_agent) == expected
