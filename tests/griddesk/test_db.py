from sqlalchemy import inspect

from griddesk.db import make_engine
from ops.setup_db import migrate


def test_migrations_create_every_table_and_are_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'sub' / 'g.db'}"
    migrate(url)
    migrate(url)
    engine = make_engine(url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"kb_faq", "kb_embedding", "kb_miss", "conversation", "message", "alembic_version"} <= tables


def test_sqlite_connections_use_wal_and_enforce_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'g.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_models_and_migrations_agree(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import griddesk.ratelimit  # noqa: F401
    import handoff.models  # noqa: F401
    import knowledge_base.models  # noqa: F401
    from griddesk.db import Base

    url = f"sqlite:///{tmp_path / 'g.db'}"
    migrate(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []
