"""``ops.redis``: the project's own Redis server (Debian's redis-server, installed by ``make redis``)."""

from __future__ import annotations

import os
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops import redis as redis_ops
from ops.redis import RedisError, Server


def installed() -> bool:
    try:
        redis_ops.server_binary()
    except RedisError:
        return False
    return True


pytestmark = pytest.mark.skipif(not installed(), reason="Debian's redis-server is not installed (make redis)")


@pytest.fixture
def server() -> Iterator[Server]:
    made = Server.throwaway_in_temp()
    yield made
    made.remove()


def _command(path: Path, command: str) -> bytes:
    """One inline command on the socket, its raw reply (what ``running`` does too: no client library needed)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(str(path))
        conn.sendall(f"{command}\r\n".encode())
        return conn.recv(4096)


def test_a_server_starts_once_serves_its_socket_only_keeps_nothing_on_disk_and_runs_unprivileged(server):
    server.start()
    pid = server.pid()
    server.start()  # already running: nothing happens
    assert server.running() and server.pid() == pid
    assert b"port\r\n$1\r\n0" in _command(server.socket_path, "CONFIG GET port")  # no TCP port at all
    assert b"save\r\n$0\r\n" in _command(server.socket_path, "CONFIG GET save")  # no snapshots
    assert b"appendonly\r\n$2\r\nno" in _command(server.socket_path, "CONFIG GET appendonly")
    server_uid = server.socket_path.stat().st_uid
    if os.geteuid() == 0:
        assert server_uid != 0  # as root, the server is Debian's redis user
    else:
        assert server_uid == os.geteuid()
    assert stat.S_IMODE(server.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(server.socket_path.stat().st_mode) == 0o700  # only the server's user (and root) connect
    server.stop()
    assert not server.running()
    server.stop()  # stopped: nothing happens
    server.start()
    assert server.running()


def test_a_stale_pid_file_is_not_taken_for_a_server(server):
    server.directory.mkdir(exist_ok=True)
    server.pid_path.write_text(f"{os.getpid()}\n")  # our own pid: stop must not signal it
    server.stop()
    assert not server.running()


def test_the_cli_prints_the_url_of_the_server_it_started_and_stops_it(capsys):
    # not in pytest's tmp_path: its folders are 0700, and as root the server runs as another user
    folder = Path(tempfile.mkdtemp(prefix="griddesk-redis-cli-"))
    try:
        assert redis_ops.main(["start", "--dir", str(folder)]) == 0
        url = capsys.readouterr().out.strip()
        assert url == f"unix://{folder.resolve()}/redis.sock"
        assert redis_ops.main(["url", "--dir", str(folder)]) == 0
        assert capsys.readouterr().out.strip() == url
        assert redis_ops.main(["url", "--tcp", "--dir", str(folder)]) == 1  # no TCP port was asked for
        assert "--port" in capsys.readouterr().err
        assert redis_ops.main(["status", "--dir", str(folder)]) == 0
    finally:
        assert redis_ops.main(["stop", "--dir", str(folder), "--remove"]) == 0
    assert redis_ops.main(["status", "--dir", str(folder)]) == 3
    assert not folder.exists()


def test_a_tcp_port_when_asked_listens_on_loopback_only(server):
    with socket.socket() as probe:  # a free port, then given back
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server.start(port=port)
    assert server.tcp_url() == f"redis://127.0.0.1:{port}/0"
    assert b"bind\r\n$9\r\n127.0.0.1" in _command(server.socket_path, "CONFIG GET bind")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(b"PING\r\n")
        assert conn.recv(16).startswith(b"+PONG")
