"""Alembic environment: every feature's models, the URL from GridDesk's settings."""

from __future__ import annotations

from alembic import context

import accounts.models  # noqa: F401 - registers tables on Base.metadata
import conversations.models  # noqa: F401
import customers.models  # noqa: F401
import griddesk.leases
import griddesk.ratelimit
import griddesk.replay  # noqa: F401
import grids.models  # noqa: F401
import handoff.models  # noqa: F401
import knowledge_base.models  # noqa: F401
import reports.models  # noqa: F401
import tickets.models  # noqa: F401
from griddesk.db import Base, make_engine
from griddesk.settings import get_settings

target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=get_settings().database_url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = context.config.attributes.get("database_url") or get_settings().database_url
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
