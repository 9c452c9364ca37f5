import os
import sqlite3
import stat

import pytest
from sqlalchemy import inspect

from griddesk.db import make_engine
from ops.setup_db import migrate


def test_migrations_create_every_table_and_are_idempotent(fresh_database_url):
    url = fresh_database_url
    migrate(url)
    migrate(url)
    engine = make_engine(url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"kb_faq", "kb_embedding", "kb_miss", "conversation", "message", "alembic_version"} <= tables


@pytest.mark.sqlite
def test_sqlite_connections_use_wal_and_enforce_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'g.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        # deleted content zeroed on disk (Debian's SQLite has it on by default; other builds do not)
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    engine.dispose()


def test_models_and_migrations_agree(fresh_database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import griddesk.leases
    import griddesk.ratelimit
    import griddesk.replay  # noqa: F401
    import handoff.models  # noqa: F401
    import knowledge_base.models  # noqa: F401
    import reports.models  # noqa: F401
    from griddesk.db import Base

    url = fresh_database_url
    migrate(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.sqlite
def test_a_new_sqlite_database_its_folder_and_its_wal_and_shm_files_are_private(tmp_path):
    folder = tmp_path / "var"
    engine = make_engine(f"sqlite:///{folder / 'g.db'}")
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x TEXT)")
        connection.exec_driver_sql("INSERT INTO t VALUES ('13800138000')")
        connection.commit()
        files = [folder / "g.db", folder / "g.db-wal", folder / "g.db-shm"]
        assert all(path.exists() for path in files)
        assert [_mode(path) for path in files] == [0o600, 0o600, 0o600]
    engine.dispose()
    assert _mode(folder) == 0o700


@pytest.mark.sqlite
def test_an_existing_database_readable_by_others_is_made_private(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    sqlite3.connect(shared / "g.db").close()
    for name in ("g.db", "g.db-wal", "g.db-shm"):
        (shared / name).touch()
        os.chmod(shared / name, 0o644)
    make_engine(f"sqlite:///{shared / 'g.db'}").dispose()
    assert [_mode(shared / n) for n in ("g.db", "g.db-wal", "g.db-shm")] == [0o600, 0o600, 0o600]
    assert _mode(shared) == 0o755  # a folder it did not create is left as it is (it may be /srv or /tmp)
