"""Shared fixtures: a migrated SQLite database per test, settings pointing at it, FAQ factories."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from griddesk import db as db_module
from griddesk.settings import Settings, get_settings, load_settings
from knowledge_base.search import reset_knowledge_base

pytest_plugins = ["tests.gateway_client"]

# Tests set the data key explicitly (never a generated var/data.key); the integration stack inherits it.
TEST_DATA_KEY = "dGVzdHMtb25seS1ncmlkZGVzay1kYXRhLWtleS0wMDE="
os.environ["GRIDDESK_DATA_KEY"] = TEST_DATA_KEY


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database migrated with Alembic to head, with the seed grids; tests get copies of it."""
    from sqlalchemy.orm import Session

    from griddesk.db import make_engine
    from grids.service import load_grids
    from ops.setup_db import migrate

    path = tmp_path_factory.mktemp("template") / "griddesk.db"
    migrate(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        load_grids(session)
        session.commit()
    engine.dispose()
    return path


@pytest.fixture
def settings(tmp_path: Path, migrated_template: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings for a fresh data dir with a freshly migrated database; process singletons reset."""
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    shutil.copy(migrated_template, data_dir / "griddesk.db")
    monkeypatch.setenv("GRIDDESK_DATA_DIR", str(data_dir))
    monkeypatch.delenv("GRIDDESK_DATABASE_URL", raising=False)
    monkeypatch.setenv("GRIDDESK_API_TOKEN", "test-token")
    get_settings.cache_clear()
    db_module.reset_engine()
    reset_knowledge_base()
    yield load_settings()
    db_module.reset_engine()
    reset_knowledge_base()
    get_settings.cache_clear()
