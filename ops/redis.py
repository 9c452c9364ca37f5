"""A Redis server owned by the project: Debian's ``redis-server``, a unix socket and, unless asked, no TCP port.

``make redis`` installs Debian's package when it is missing; this module does the rest:

    python -m ops.redis start [--port N]   # start the server if it is not running, print its URL (GRIDDESK_REDIS_URL)
    python -m ops.redis url [--tcp]        # its URL (--tcp: redis://127.0.0.1:N/0, if started with --port)
    python -m ops.redis status             # running or stopped (exit code 3 when stopped)
    python -m ops.redis stop [--remove]

What GridDesk keeps in Redis is short-lived by nature (live events, which Socket.IO sessions have a socket where,
the messages kept for a reconnecting widget; all with expiry or none at all; replay guards and job leases are in
the database), so the server keeps nothing on disk: no snapshots, no append-only file. A restart starts empty;
the database stays the record and clients catch up from it.

The server runs as the invoking user. Run by root (CI, containers), it runs as Debian's unprivileged ``redis``
system user (made by the package) through ``runuser``; the server's folder is then that user's, 0700, so the socket
(0700 too) is reached by that user and root only. Its folder is ``$GRIDDESK_DATA_DIR/redis`` when the ``redis`` user
can reach it, else ``~redis/griddesk-<8 hex of the data dir>``. ``--port N`` also listens on 127.0.0.1:N (loopback
only), for clients that cannot use a unix socket. The test suite starts a throwaway server the same way in a fresh
temporary folder (:meth:`Server.throwaway_in_temp`) and removes it at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from griddesk.settings import get_settings

SERVER_USER = "redis"  # Debian's system user for redis-server, used when we are root
CONFIG_NAME = "redis.conf"
SOCKET_NAME = "redis.sock"
START_TIMEOUT = 30.0


class RedisError(RuntimeError):
    """redis-server is missing, or the server could not be started, stopped or reached."""


def server_binary() -> str:
    found = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin")  # a PATH without /usr/bin
    if found is None:
        raise RedisError("Redis is not installed: run `make redis` (installs Debian's redis-server)")
    return found


def _server_user() -> pwd.struct_passwd | None:
    """The user the server runs as when we are root (None: ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise RedisError(
            f"running as root, but there is no {SERVER_USER!r} user for the server: run `make redis`"
        ) from None


def _reachable_by(user: pwd.struct_passwd, folder: Path) -> bool:
    """Whether ``user`` may pass through every existing folder above ``folder`` (x for others, or its own)."""
    for parent in folder.parents:
        if not parent.exists():
            continue
        stat = parent.stat()
        if stat.st_uid == user.pw_uid or stat.st_mode & 0o001:
            continue
        if stat.st_gid == user.pw_gid and stat.st_mode & 0o010:
            continue
        return False
    return True


def default_dir() -> Path:
    """Where ``python -m ops.redis`` keeps the project's server (see the module's docstring)."""
    data_dir = get_settings().data_dir.resolve()
    folder = data_dir / "redis"
    user = _server_user()
    if user is None or _reachable_by(user, folder):
        return folder
    tag = hashlib.sha256(str(data_dir).encode()).hexdigest()[:8]
    return Path(user.pw_dir) / f"griddesk-{tag}"


@dataclass(frozen=True)
class Server:
    """One server in ``directory``: ``redis.conf``, ``redis.sock``, ``redis.pid``, ``server.log``."""

    directory: Path

    @classmethod
    def throwaway_in_temp(cls) -> Server:
        """A new server's folder in a fresh temporary folder (tests), removed by :meth:`remove`."""
        return cls(Path(tempfile.mkdtemp(prefix="griddesk-redis-")))

    @property
    def socket_path(self) -> Path:
        return self.directory / SOCKET_NAME

    @property
    def config_path(self) -> Path:
        return self.directory / CONFIG_NAME

    @property
    def pid_path(self) -> Path:
        return self.directory / "redis.pid"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    def url(self) -> str:
        """The URL clients use (redis-py's ``from_url``, python-socketio's Redis manager): the unix socket."""
        return f"unix://{self.socket_path}"

    def tcp_port(self) -> int | None:
        """The loopback TCP port the server was configured with (None: the socket only)."""
        if not self.config_path.exists():
            return None
        for line in self.config_path.read_text(encoding="utf-8").splitlines():
            name, _, value = line.partition(" ")
            if name == "port" and value.strip() not in ("", "0"):
                return int(value)
        return None

    def tcp_url(self) -> str:
        port = self.tcp_port()
        if port is None:
            raise RedisError("the server listens on no TCP port: start it with --port N")
        return f"redis://127.0.0.1:{port}/0"

    def _config(self, port: int | None) -> str:
        lines = [
            "# GridDesk (ops/redis.py): written at each start",
            f"unixsocket {self.socket_path}",
            "unixsocketperm 700",
            *([f"port {port}", "bind 127.0.0.1"] if port else ["port 0"]),
            "daemonize yes",
            f"pidfile {self.pid_path}",
            f"logfile {self.log}",
            f"dir {self.directory}",
            'save ""',
            "appendonly no",
            "protected-mode yes",
        ]
        return "".join(f"{line}\n" for line in lines)

    def running(self) -> bool:
        """Whether the server answers PING on its socket."""
        if not self.socket_path.exists():
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(2)
                conn.connect(str(self.socket_path))
                conn.sendall(b"PING\r\n")
                return conn.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def start(self, port: int | None = None) -> None:
        """Start the server (waits until it answers); nothing if it runs."""
        if self.running():
            return
        binary = server_binary()
        user = _server_user()
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        self.config_path.write_text(self._config(port), encoding="utf-8")
        if user is not None:
            for path in (self.directory, self.config_path):
                os.chown(path, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", user.pw_name, "--"] if user else []
        result = subprocess.run(
            [*prefix, binary, str(self.config_path)],
            cwd=self.directory,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            raise RedisError(f"redis-server failed ({result.returncode}): {result.stderr or result.stdout}")
        deadline = time.monotonic() + START_TIMEOUT
        while not self.running():
            if time.monotonic() > deadline:
                raise RedisError(f"Redis did not answer on {self.socket_path}: see {self.log}")
            time.sleep(0.05)

    def pid(self) -> int | None:
        try:
            return int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        """Stop the server (SIGTERM: it exits at once, with nothing to save); nothing if it is not running."""
        pid = self.pid()
        if pid is None or not self.running():  # a stale pid file after a crash names no server of ours
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + START_TIMEOUT
        while _alive(pid):
            if time.monotonic() > deadline:
                raise RedisError(f"Redis (pid {pid}) did not stop: see {self.log}")
            time.sleep(0.05)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.redis", description="the project's Redis server")
    parser.add_argument("command", choices=["start", "stop", "url", "status"])
    parser.add_argument("--dir", type=Path, help="the server's folder (default: see the module's docstring)")
    parser.add_argument("--port", type=int, help="with start: also listen on 127.0.0.1:PORT (default: socket only)")
    parser.add_argument("--tcp", action="store_true", help="with url: the loopback TCP URL (started with --port)")
    parser.add_argument("--remove", action="store_true", help="with stop: delete the server's folder")
    args = parser.parse_args(argv)
    try:
        server = Server((args.dir or default_dir()).resolve())
        if args.command == "start":
            server.start(port=args.port)
            print(server.url())
        elif args.command == "url":
            print(server.tcp_url() if args.tcp else server.url())
        elif args.command == "status":
            running = server.running()
            print(f"{server.directory}: {'running' if running else 'stopped'}")
            return 0 if running else 3
        else:
            server.remove() if args.remove else server.stop()
    except RedisError as exc:
        print(f"ops.redis: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
