"""The database the suite runs on: SQLite (the default) or PostgreSQL (``pytest --db=postgresql``).

SQLite: one file migrated to head once per process, copied for each test.

PostgreSQL: the controlling pytest process starts a throwaway cluster (:meth:`ops.postgres.Cluster.throwaway_in_temp`,
durability off) and migrates one template database with the seed grids; each xdist worker then gets its own
database copied from the template (``CREATE DATABASE … TEMPLATE``), and before each test that database is emptied
with one ``TRUNCATE`` and the seed rows put back, instead of being migrated again. The cluster is removed when the
run ends. Fixtures: ``database_backend``, ``database_url`` (the test's database), ``fresh_database_url`` (an empty
one, for migration tests), ``stack_database_url`` (the integration stack's, so ``pytest tests/integration
--db=postgresql`` runs the real gateway, action server and Rasa on PostgreSQL) and the marker ``sqlite`` (a test of
SQLite itself: skipped on PostgreSQL).
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ops.postgres import Cluster

CLUSTER_ENV = "GRIDDESK_TEST_POSTGRES_DIR"  # the throwaway cluster's folder, for the xdist workers
TEMPLATE = "griddesk_template"
SEED_SCHEMA = "test_seed"  # copies of the rows the template holds (the seed grids), put back after each TRUNCATE
_cluster_key = pytest.StashKey["Cluster"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="the database backend of the tests: sqlite (default) or postgresql (a throwaway cluster, ops/postgres.py)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite: a test of SQLite itself (its file, its pragmas); skipped on PostgreSQL")
    config.addinivalue_line(
        "markers", "postgresql: runs its own PostgreSQL (make cluster): only in the PostgreSQL pass, once per make test"
    )
    if config.getoption("db") != "postgresql" or hasattr(config, "workerinput"):
        return  # SQLite, or an xdist worker (the controller started the cluster)
    from ops.postgres import Cluster

    cluster = Cluster.throwaway_in_temp()
    config.stash[_cluster_key] = cluster
    try:
        cluster.start()
        cluster.create_database(TEMPLATE)
        with tempfile.TemporaryDirectory() as data_dir:  # not var/: its data.key is not the tests' key
            _migrate_with_seed(cluster.url(TEMPLATE), Path(data_dir))
    except BaseException:
        cluster.remove()
        raise
    os.environ[CLUSTER_ENV] = str(cluster.directory)  # the workers, started after this, inherit it


def pytest_unconfigure(config: pytest.Config) -> None:
    cluster = config.stash.get(_cluster_key, None)
    if cluster is not None:
        cluster.remove()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_postgresql = config.getoption("db") == "postgresql"
    marker, reason = (
        ("sqlite", "a test of SQLite itself (run with --db=sqlite)")
        if on_postgresql
        else ("postgresql", "starts its own PostgreSQL: run with --db=postgresql (make test's PostgreSQL pass)")
    )
    for item in items:
        if item.get_closest_marker(marker):
            item.add_marker(pytest.mark.skip(reason=reason))


def _migrate_with_seed(url: str, data_dir: Path) -> None:
    """Migrate ``url`` to head and load the seed grids (what every test's database starts with)."""
    from sqlalchemy.orm import Session

    from griddesk.db import make_engine
    from griddesk.settings import get_settings
    from grids.service import load_grids
    from ops.setup_db import migrate

    previous = os.environ.get("GRIDDESK_DATA_DIR")
    os.environ["GRIDDESK_DATA_DIR"] = str(data_dir)
    get_settings.cache_clear()
    try:
        migrate(url)
    finally:
        if previous is None:
            os.environ.pop("GRIDDESK_DATA_DIR")
        else:
            os.environ["GRIDDESK_DATA_DIR"] = previous
        get_settings.cache_clear()
    engine = make_engine(url)
    with Session(engine) as session:
        load_grids(session)
        session.commit()
    engine.dispose()


def _cluster() -> Cluster:
    from ops.postgres import Cluster

    return Cluster(Path(os.environ[CLUSTER_ENV]), throwaway=True)


@pytest.fixture(scope="session")
def database_backend(pytestconfig: pytest.Config) -> str:
    return str(pytestconfig.getoption("db"))


@pytest.fixture(scope="session")
def migrated_template(database_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """SQLite: one database file migrated to head, with the seed grids; tests get copies of it."""
    if database_backend != "sqlite":
        return None
    path = tmp_path_factory.mktemp("template") / "griddesk.db"
    _migrate_with_seed(f"sqlite:///{path}", path.parent)
    return path


class WorkerDatabase:
    """This worker's PostgreSQL database, copied from the template; :meth:`reset` empties it to the template."""

    def __init__(self, name: str) -> None:
        import sqlalchemy as sa

        cluster = _cluster()
        cluster.create_database(name, template=TEMPLATE)
        self.url = cluster.url(name)
        self._engine = sa.create_engine(self.url, poolclass=sa.NullPool)
        with self._engine.begin() as connection:
            inspector = sa.inspect(connection)
            tables = [t for t in inspector.get_table_names() if t != "alembic_version"]
            seeded = [t for t in tables if connection.execute(sa.text(f'SELECT EXISTS (SELECT FROM "{t}")')).scalar()]
            connection.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {SEED_SCHEMA}"))
            statements = ["TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"]
            for table in seeded:
                connection.execute(sa.text(f'CREATE TABLE IF NOT EXISTS {SEED_SCHEMA}."{table}" AS TABLE "{table}"'))
                statements.append(f'INSERT INTO "{table}" SELECT * FROM {SEED_SCHEMA}."{table}"')
                for column in inspector.get_columns(table):
                    sequence = connection.execute(
                        sa.text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": f'"{table}"', "c": column["name"]}
                    ).scalar()
                    if sequence:
                        statements.append(
                            f'SELECT setval(\'{sequence}\', (SELECT max("{column["name"]}") FROM "{table}"))'
                        )
        self._reset_sql = ";\n".join(statements)
        self._used = False

    def reset(self) -> None:
        """Back to the template's content: connections a test left open are ended, every table emptied at once
        (TRUNCATE fires no row triggers: the append-only tables allow it), the seed rows put back."""
        import sqlalchemy as sa

        if not self._used:  # a fresh copy of the template
            self._used = True
            return
        with self._engine.begin() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            connection.exec_driver_sql(self._reset_sql)

    def dispose(self) -> None:
        self._engine.dispose()


def _worker(config: pytest.Config) -> str:
    """The xdist worker's id (gw0, gw1, …), or ``main`` without xdist."""
    return str(getattr(config, "workerinput", {}).get("workerid", "main"))


@pytest.fixture(scope="session")
def worker_database(database_backend: str, pytestconfig: pytest.Config) -> Iterator[WorkerDatabase | None]:
    if database_backend != "postgresql":
        yield None
        return
    database = WorkerDatabase(f"griddesk_{_worker(pytestconfig)}")
    yield database
    database.dispose()


@pytest.fixture
def database_url(
    tmp_path: Path, migrated_template: Path | None, worker_database: WorkerDatabase | None
) -> Iterator[str]:
    """A database at head with the seed grids and nothing else, for this test alone."""
    if worker_database is None:
        import shutil

        assert migrated_template is not None
        data_dir = tmp_path / "var"
        data_dir.mkdir(exist_ok=True)
        shutil.copy(migrated_template, data_dir / "griddesk.db")
        yield f"sqlite:///{data_dir / 'griddesk.db'}"
        return
    worker_database.reset()
    yield worker_database.url


_fresh_numbers = itertools.count(1)


@pytest.fixture
def fresh_database_url(database_backend: str, tmp_path: Path, pytestconfig: pytest.Config) -> Iterator[str]:
    """An empty database (no tables) on the backend under test: for tests of the migrations themselves."""
    if database_backend != "postgresql":
        yield f"sqlite:///{tmp_path / 'fresh' / 'griddesk.db'}"
        return
    import psycopg
    from psycopg import sql

    cluster = _cluster()
    name = f"griddesk_{_worker(pytestconfig)}_fresh_{next(_fresh_numbers)}"
    cluster.create_database(name, template="template0")
    yield cluster.url(name)
    from griddesk import db as db_module

    db_module.reset_engine()
    with psycopg.connect(host=str(cluster.socket_dir), user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def stack_database_url(database_backend: str, pytestconfig: pytest.Config) -> str | None:
    """For the integration stack: an empty PostgreSQL database (its ``ops.setup_db`` migrates and seeds it), or
    None on SQLite (the stack's own data directory holds its file)."""
    if database_backend != "postgresql":
        return None
    cluster = _cluster()
    name = f"griddesk_{_worker(pytestconfig)}_stack"
    cluster.create_database(name, template="template0")
    return cluster.url(name)


@pytest.fixture
def next_database_url(
    tmp_path: Path, migrated_template: Path | None, worker_database: WorkerDatabase | None
) -> Callable[[], str]:
    """Another database as every test's starts (at head, the seed grids only), for a test that needs a second one:
    on SQLite a new copy of the template; on PostgreSQL this worker's database emptied again."""
    copies = itertools.count(1)

    def make() -> str:
        if worker_database is not None:
            from griddesk import db as db_module

            db_module.reset_engine()  # its connections would be ended by the reset
            worker_database.reset()
            return worker_database.url
        import shutil

        assert migrated_template is not None
        path = tmp_path / f"copy-{next(copies)}.db"
        shutil.copy(migrated_template, path)
        return f"sqlite:///{path}"

    return make
