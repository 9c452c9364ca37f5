"""Shared fixtures: a migrated database per test (SQLite or PostgreSQL: ``tests/database.py``), settings pointing at
it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from griddesk import db as db_module
from griddesk.settings import Settings, get_settings, load_settings
from knowledge_base.search import reset_knowledge_base

pytest_plugins = ["tests.database", "tests.gateway_client", "tests.redis_server"]

# Tests set the data key explicitly (never a generated var/data.key); the integration stack inherits it.
TEST_DATA_KEY = "dGVzdHMtb25seS1ncmlkZGVzay1kYXRhLWtleS0wMDE="
os.environ["GRIDDESK_DATA_KEY"] = TEST_DATA_KEY


@pytest.fixture
def settings(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings for a fresh data dir with a freshly migrated database (SQLite or PostgreSQL: ``tests/database.py``);
    process singletons reset."""
    data_dir = tmp_path / "var"
    data_dir.mkdir(exist_ok=True)
    monkeypatch.setenv("GRIDDESK_DATA_DIR", str(data_dir))
    monkeypatch.setenv("GRIDDESK_DATABASE_URL", database_url)
    monkeypatch.setenv("GRIDDESK_API_TOKEN", "test-token")
    get_settings.cache_clear()
    db_module.reset_engine()
    reset_knowledge_base()
    yield load_settings()
    db_module.reset_engine()
    reset_knowledge_base()
    get_settings.cache_clear()
