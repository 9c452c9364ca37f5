"""A PostgreSQL cluster owned by the project: Debian's ``postgresql`` binaries, ``initdb`` + ``pg_ctl``, a unix
socket inside the cluster's own folder and no TCP port (nothing listens on the network).

``make postgres`` installs Debian's package when it is missing; this module does the rest:

    python -m ops.postgres start     # create the cluster if missing, start it, create the database, print its URL
    python -m ops.postgres url       # the URL (GRIDDESK_DATABASE_URL) of the running cluster
    python -m ops.postgres stop [--remove]

PostgreSQL refuses to run as root. Run by an ordinary user, the server runs as that user and the cluster lives
in ``$GRIDDESK_DATA_DIR/postgres``. Run by root (CI, containers), the server runs as Debian's unprivileged
``postgres`` system user (made by the package) through ``runuser``; that user cannot enter the data directory
(0700, root's), so the cluster lives in its home instead, ``~postgres/griddesk-<8 hex of the data dir>``, a folder
only it (and root) may open. The test suite makes a throwaway cluster the same way in a fresh temporary folder
(:meth:`Cluster.throwaway`), with durability switched off, and removes it at the end.

The socket folder is the cluster's ``run/`` (0700): only the server's user and root reach it, so local
connections use ``trust`` authentication with no password to keep or leak.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from griddesk.settings import get_settings
from ops.train_model import tracker_store_url

SERVER_USER = "postgres"  # Debian's system user for PostgreSQL, used when we are root
DATABASE = "griddesk"
PORT = 5432  # only names the socket file (run/.s.PGSQL.5432): the cluster listens on no TCP port

# Settings of every cluster: no TCP, the socket in run/, UTF-8 with byte-order (codepoint) collation, like SQLite.
BASE_CONFIG = {
    "listen_addresses": "''",
    "unix_socket_permissions": "0700",
    "max_connections": "200",
    "timezone": "'UTC'",
    "log_timezone": "'UTC'",
}
# A throwaway cluster for tests trades durability for speed: its data is gone at the end anyway.
THROWAWAY_CONFIG = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "128MB",
    "max_wal_size": "1GB",
    "checkpoint_timeout": "30min",
}


class PostgresError(RuntimeError):
    """PostgreSQL is missing, or the cluster could not be made, started or reached."""


def bin_dir() -> Path:
    """The folder of ``initdb``/``pg_ctl``: Debian keeps them out of PATH, in /usr/lib/postgresql/<version>/bin."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda path: int(path.parent.parent.name), reverse=True
    )
    if versions:
        return versions[0].parent
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    raise PostgresError("PostgreSQL is not installed: run `make postgres` (installs Debian's postgresql)")


def _server_user() -> pwd.struct_passwd | None:
    """The user the server runs as when we are root (None: ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresError(
            f"running as root, but there is no {SERVER_USER!r} user for the server: run `make postgres`"
        ) from None


def default_dir() -> Path:
    """Where ``python -m ops.postgres`` keeps the project's cluster (see the module's docstring)."""
    data_dir = get_settings().data_dir.resolve()
    user = _server_user()
    if user is None:
        return data_dir / "postgres"
    tag = hashlib.sha256(str(data_dir).encode()).hexdigest()[:8]
    return Path(user.pw_dir) / f"griddesk-{tag}"


@dataclass(frozen=True)
class Cluster:
    """One cluster in ``directory``: ``data/`` (PGDATA), ``run/`` (the socket), ``server.log``."""

    directory: Path
    throwaway: bool = False

    @classmethod
    def throwaway_in_temp(cls) -> Cluster:
        """A new cluster in a fresh temporary folder (tests): fast settings, removed by :meth:`remove`."""
        return cls(Path(tempfile.mkdtemp(prefix="griddesk-pg-")), throwaway=True)

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def socket_dir(self) -> Path:
        return self.directory / "run"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    def url(self, database: str = DATABASE) -> str:
        """The SQLAlchemy URL of ``database`` over the socket (psycopg 3)."""
        return f"postgresql+psycopg://{SERVER_USER}@/{database}?host={quote(str(self.socket_dir), safe='/')}"

    def psycopg2_url(self, database: str = DATABASE) -> str:
        """The same database for SQLAlchemy 1.4 + psycopg2 (Rasa 3.6's SQL tracker store, in the bot env)."""
        return tracker_store_url(self.url(database))

    def _run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        user = _server_user()
        prefix = ["runuser", "-u", user.pw_name, "--"] if user else []
        result = subprocess.run(
            [*prefix, *argv], cwd=self.directory, capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        if result.returncode != 0:
            raise PostgresError(f"{Path(argv[0]).name} failed ({result.returncode}): {result.stderr or result.stdout}")
        return result

    def _prepare_directory(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        user = _server_user()
        if user is not None:
            os.chown(self.directory, user.pw_uid, user.pw_gid)

    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def init(self) -> None:
        """``initdb`` (UTF-8, C.UTF-8 collation, local trust) and the cluster's settings; nothing if it exists."""
        if self.initialised():
            return
        self._prepare_directory()
        self._run(
            str(bin_dir() / "initdb"),
            "--pgdata",
            str(self.data),
            "--username",
            SERVER_USER,
            "--encoding",
            "UTF8",
            "--locale",
            "C.UTF-8",
            "--auth-local",
            "trust",
            "--auth-host",
            "reject",
            *(["--no-sync"] if self.throwaway else []),
        )
        self._run("mkdir", "-m", "0700", "-p", str(self.socket_dir))
        config = {**BASE_CONFIG, "unix_socket_directories": f"'{self.socket_dir}'", "port": str(PORT)}
        if self.throwaway:
            config.update(THROWAWAY_CONFIG)
        lines = "".join(f"{name} = {value}\n" for name, value in config.items())
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# GridDesk (ops/postgres.py)\n" + lines)

    def running(self) -> bool:
        if not self.initialised():
            return False
        result = subprocess.run(
            [str(bin_dir() / "pg_isready"), "-q", "-h", str(self.socket_dir), "-p", str(PORT)],
            capture_output=True,
            stdin=subprocess.DEVNULL,
        )
        return result.returncode == 0

    def start(self) -> None:
        """Init if needed and start the server (waits until it accepts connections); nothing if it runs."""
        self.init()
        if self.running():
            return
        self._run(str(bin_dir() / "pg_ctl"), "--pgdata", str(self.data), "--log", str(self.log), "--wait", "start")
        deadline = time.monotonic() + 30
        while not self.running():  # pg_ctl --wait returns once the server is up; the socket follows at once
            if time.monotonic() > deadline:
                raise PostgresError(f"PostgreSQL did not accept connections: see {self.log}")
            time.sleep(0.1)

    def stop(self) -> None:
        if not self.initialised() or not (self.data / "postmaster.pid").exists():
            return
        mode = "immediate" if self.throwaway else "fast"
        self._run(str(bin_dir() / "pg_ctl"), "--pgdata", str(self.data), "--mode", mode, "--wait", "stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def create_database(self, name: str, template: str | None = None) -> None:
        """``CREATE DATABASE name`` (from ``template`` if given); nothing if it exists."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(host=str(self.socket_dir), port=PORT, user=SERVER_USER, dbname="postgres") as conn:
            conn.autocommit = True
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                return
            statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            conn.execute(statement)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.postgres", description="the project's PostgreSQL cluster")
    parser.add_argument("command", choices=["start", "stop", "url", "status"])
    parser.add_argument("--dir", type=Path, help="the cluster's folder (default: see the module's docstring)")
    parser.add_argument("--remove", action="store_true", help="with stop: delete the cluster and its data")
    parser.add_argument("--psycopg2", action="store_true", help="with url: the URL for psycopg2 (Rasa's bot env)")
    args = parser.parse_args(argv)
    try:
        cluster = Cluster((args.dir or default_dir()).resolve())
        if args.command == "start":
            cluster.start()
            cluster.create_database(DATABASE)
            print(cluster.url())
        elif args.command == "url":
            print(cluster.psycopg2_url() if args.psycopg2 else cluster.url())
        elif args.command == "status":
            running = cluster.running()
            print(f"{cluster.directory}: {'running' if running else 'stopped'}")
            return 0 if running else 3
        else:
            cluster.remove() if args.remove else cluster.stop()
    except PostgresError as exc:
        print(f"ops.postgres: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
