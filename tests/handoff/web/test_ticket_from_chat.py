"""A ticket opened from a chat through the console (issue 14, item 9): the tier and the grid come from
the chat (the verified customer, the handoff's grid), whatever the form sends."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from accounts.models import Account
from griddesk.db import session_scope
from grids.models import GridMembership
from tests.accounts.conftest import fast_hashing  # noqa: F401 - fixture
from tests.factories import make_customer
from tests.handoff.web.test_console import Console, app_client, queue_handoff, staff  # noqa: F401
from tickets.service import get_ticket

pytestmark = pytest.mark.usefixtures("fast_hashing")


async def test_a_key_accounts_ticket_from_the_chat_keeps_the_tier_and_the_grid_of_the_chat(app_client, staff):  # noqa: F811
    with session_scope() as session:
        account_id = session.scalar(select(Account.id).where(Account.username == "zhang.wei"))
        session.add(GridMembership(grid_code="key-accounts", account_id=account_id))
    vip = make_customer("vip-1", name="赵总", phone="13900139000", region="成都市武侯区", tier="key")
    handoff_id = queue_handoff("vip", grid="key-accounts", text="宽带断网了", customer=vip)
    console = await Console.login(app_client, "zhang.wei")
    assert (await console.post(f"/api/v1/console/handoffs/{handoff_id}/accept")).status == 200
    draft = await (await app_client.get(f"/api/v1/console/handoffs/{handoff_id}/ticket-draft")).json()
    assert (draft["category"], draft["customer_tier"], draft["grid"]) == ("fault", "key", "key-accounts")
    # the console's form sends neither tier nor grid: the server takes them from the chat
    form = {k: draft[k] for k in ("category", "description", "contact_phone", "region")}
    response = await console.post(f"/api/v1/console/handoffs/{handoff_id}/ticket", form)
    assert response.status == 201, await response.text()
    with session_scope() as session:
        ticket = get_ticket(session, (await response.json())["number"])
        assert (ticket.customer_tier, ticket.grid_code) == ("key", "key-accounts")
