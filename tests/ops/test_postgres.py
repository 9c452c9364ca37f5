"""``ops.postgres``: the project's own PostgreSQL cluster (Debian's binaries, installed by ``make postgres``)."""

from __future__ import annotations

import os
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from griddesk.db import make_engine
from griddesk.settings import REPO_ROOT
from ops import postgres
from ops.postgres import Cluster, PostgresError
from ops.train_model import tracker_store_url

BOT_PYTHON = REPO_ROOT / ".venv" / "bot" / "bin" / "python"


def installed() -> bool:
    try:
        postgres.bin_dir()
    except PostgresError:
        return False
    return True


pytestmark = pytest.mark.skipif(not installed(), reason="Debian's postgresql is not installed (make postgres)")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    made = Cluster.throwaway_in_temp()
    yield made
    made.remove()


def test_a_cluster_starts_once_serves_its_socket_only_and_runs_as_an_unprivileged_user(cluster):
    cluster.start()
    cluster.start()  # already running: nothing happens
    cluster.create_database("griddesk")
    cluster.create_database("griddesk")  # exists: nothing happens
    assert cluster.running()
    engine = make_engine(cluster.url())
    with engine.connect() as connection:
        assert connection.execute(sa.text("SHOW listen_addresses")).scalar() == ""  # no TCP port at all
        assert connection.execute(sa.text("SHOW server_encoding")).scalar() == "UTF8"
        assert connection.execute(sa.text("SELECT current_database()")).scalar() == "griddesk"
    engine.dispose()
    server_uid = cluster.data.stat().st_uid
    assert server_uid != 0  # PostgreSQL refuses root: as root the server is Debian's postgres user
    if os.geteuid() != 0:
        assert server_uid == os.geteuid()
    for folder in (cluster.directory, cluster.socket_dir, cluster.data):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700  # only the server's user (and root) may connect
    cluster.stop()
    assert not cluster.running()
    cluster.start()  # the same data again
    assert cluster.running()


@pytest.mark.skipif(not BOT_PYTHON.exists(), reason="no bot env (make envs)")
def test_the_bot_env_reaches_the_same_database_through_sqlalchemy_1_4_and_psycopg2(cluster):
    # what Rasa 3.6's SQL tracker store uses (bot/endpoints.yml): GRIDDESK_DATABASE_URL for psycopg2
    cluster.start()
    cluster.create_database("griddesk")
    script = (
        "import sys, sqlalchemy as sa\n"
        "engine = sa.create_engine(sys.argv[1])\n"
        "with engine.connect() as c: print(sa.__version__, c.execute(sa.text('SELECT current_database()')).scalar())\n"
    )
    result = subprocess.run(
        [str(BOT_PYTHON), "-c", script, tracker_store_url(cluster.url())], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    version, database = result.stdout.split()
    assert version.startswith("1.4.") and database == "griddesk"


def test_the_cli_prints_the_url_of_the_cluster_it_started_and_stops_it(capsys):
    # not in pytest's tmp_path: its folders are 0700, and as root the server runs as another user
    folder = Path(tempfile.mkdtemp(prefix="griddesk-pg-cli-"))
    try:
        assert postgres.main(["start", "--dir", str(folder)]) == 0
        url = capsys.readouterr().out.strip()
        assert url == Cluster(folder.resolve()).url() and url.startswith("postgresql+psycopg://")
        assert postgres.main(["url", "--dir", str(folder), "--psycopg2"]) == 0
        assert capsys.readouterr().out.strip().startswith("postgresql+psycopg2://")
        assert postgres.main(["status", "--dir", str(folder)]) == 0
    finally:
        assert postgres.main(["stop", "--dir", str(folder), "--remove"]) == 0
    assert postgres.main(["status", "--dir", str(folder)]) == 3
    assert not folder.exists()
