"""Staff names as the consoles show them (audit trails, assignees), read in one query; no HTTP here."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Account


def account_names(session: Session, account_ids: Iterable[int]) -> dict[int, str]:
    """The display names of these accounts, in one query (an unknown id is left out)."""
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    return {
        account_id: name or ""
        for account_id, name in session.execute(select(Account.id, Account.display_name).where(Account.id.in_(ids)))
    }
