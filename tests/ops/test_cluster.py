"""``make cluster``'s process list and load balancer (ops/cluster.py); the running cluster is tested in
tests/integration/test_cluster.py."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from griddesk.settings import REPO_ROOT, Secret
from ops import postgres
from ops import redis as project_redis
from ops.cluster import ClusterStack, Ports, _balancer_ready, _press_ctrl_c, haproxy_config
from ops.train_model import IN_MEMORY_LOCK_STORE, bot_env
from tests import processes

PORTS = Ports(
    gateway=8000,
    rasa=5005,
    actions=5055,
    gateways=(8001, 8002),
    rasas=(5006, 5007),
    action_servers=(5056, 5057),
    redis=6390,
)


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "model.tar.gz"
    path.write_bytes(b"not a real model; only the process list is checked")
    return path


def test_the_replicas_sit_beside_the_usual_ports_which_the_balancer_keeps(settings):
    ports = Ports.beside(dataclasses.replace(settings, gateway_port=8000, rasa_port=5005, action_port=5055), 6390)
    assert ports == PORTS


def test_two_of_each_process_behind_the_balancer_each_tier_calling_the_next_through_it(settings, model):
    configured = dataclasses.replace(settings, rasa_token=Secret("t0ken"))
    stack = ClusterStack(configured, PORTS, "unix:///r/redis.sock", model)
    services = {service.name: service for service in stack.services}
    assert list(services) == ["actions-1", "actions-2", "rasa-1", "rasa-2", "gateway-1", "gateway-2", "balancer"]
    assert stack.settings.gateway_url == "http://127.0.0.1:8000"  # customers and staff: the balancer

    for name, port in (("actions-1", 5056), ("actions-2", 5057)):
        assert services[name].env["GRIDDESK_ACTION_PORT"] == str(port)
    for name, port in (("rasa-1", 5006), ("rasa-2", 5007)):
        rasa = services[name]
        assert rasa.argv[rasa.argv.index("--port") + 1] == str(port)
        assert "--auth-token=t0ken" in rasa.argv
        assert rasa.env["GRIDDESK_ACTION_SERVER_URL"] == "http://127.0.0.1:5055/webhook"  # the balancer
        # either Rasa may take any turn: the dialogue in the shared database, the turn's lock in Redis
        assert rasa.env["GRIDDESK_TRACKER_STORE_URL"] == bot_env(settings)["GRIDDESK_TRACKER_STORE_URL"]
        assert rasa.env["GRIDDESK_LOCK_STORE"] == "redis"
        assert (rasa.env["GRIDDESK_LOCK_STORE_HOST"], rasa.env["GRIDDESK_LOCK_STORE_PORT"]) == ("127.0.0.1", "6390")
    keys = set()
    for name, port in (("gateway-1", 8001), ("gateway-2", 8002)):
        env = services[name].env
        assert env["GRIDDESK_GATEWAY_PORT"] == str(port)
        assert env["GRIDDESK_RASA_URL"] == "http://127.0.0.1:5005"  # the balancer: a dead Rasa is skipped
        assert env["GRIDDESK_REDIS_URL"] == "unix:///r/redis.sock"
        assert env["GRIDDESK_TRUSTED_PROXIES"] == "127.0.0.1"
        assert env["GRIDDESK_RASA_TOKEN"] == "t0ken"
        keys.add(env["GRIDDESK_CLIENT_KEY"])
    assert len(keys) == 1 and len(keys.pop()) >= 32  # one client identifier whichever gateway a client reaches
    assert services["balancer"].argv[-2:] == ["-f", str(settings.data_dir / "cluster" / "haproxy.cfg")]
    assert "-db" in services["balancer"].argv  # in the foreground, under the supervisor


def test_make_run_keeps_rasas_lock_store_in_memory(settings):
    endpoints = (REPO_ROOT / "bot" / "endpoints.yml").read_text()
    assert "type: ${GRIDDESK_LOCK_STORE}" in endpoints
    env = bot_env(settings)
    assert {name: env[name] for name in IN_MEMORY_LOCK_STORE} == IN_MEMORY_LOCK_STORE
    assert env["GRIDDESK_LOCK_STORE"] == "in_memory"


def test_socketio_sticks_to_one_gateway_and_everything_else_is_spread():
    config = haproxy_config(PORTS)
    gateways = config.split("backend gateways\n", 1)[1].split("\n\n", 1)[0]
    by_client = config.split("backend gateways_by_client\n", 1)[1].split("\n\n", 1)[0]
    assert "balance roundrobin" in gateways and "option httpchk GET /healthz" in gateways
    assert "use_backend gateways_by_client if socketio" in config and "acl socketio path_beg /socket.io/" in config
    assert "balance source" in by_client and "hash-type consistent" in by_client
    assert "track gateways/gateway-1" in by_client  # one health check per gateway, not two
    assert "bind 127.0.0.1:8000" in config and "bind 127.0.0.1:5005" in config and "bind 127.0.0.1:5055" in config
    assert "server rasa-2 127.0.0.1:5007 check" in config and "server actions-1 127.0.0.1:5056 check" in config
    assert "option redispatch" in config and "option forwardfor" in config
    assert "log" not in config.replace("# GridDesk", "")  # URLs carry customers' sender ids: none are logged


def test_haproxy_accepts_the_configuration(tmp_path):
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(binary).exists():
        pytest.fail("Debian's haproxy is missing: run `make haproxy` (make test does)")
    path = tmp_path / "haproxy.cfg"
    path.write_text(haproxy_config(PORTS, drop_to="haproxy"))
    result = subprocess.run([binary, "-c", "-f", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_a_busy_replica_is_given_ten_seconds_to_answer_its_check_a_dead_one_is_out_at_once():
    config = haproxy_config(PORTS)
    assert "timeout check 10s" in config  # HAProxy's default (inter, 1 s) took busy replicas out under load
    assert "default-server inter 1s fall 2 rise 2" in config  # a refused connection fails a check at once


class _Front(BaseHTTPRequestHandler):
    """One balancer front: answers 200 on every path, or 503 as HAProxy does with no replica in service."""

    status = 200

    def do_GET(self) -> None:
        body = b'{"status": "ok"}'
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@contextmanager
def _front(status: int) -> Iterator[int]:
    handler = type("Front", (_Front,), {"status": status})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("unserved", [None, "gateway", "rasa", "actions"])
def test_the_cluster_counts_as_started_once_every_front_has_a_replica_in_service(settings, unserved):
    statuses = {front: 503 if front == unserved else 200 for front in ("gateway", "rasa", "actions")}
    with (
        _front(statuses["gateway"]) as gateway,
        _front(statuses["rasa"]) as rasa,
        _front(statuses["actions"]) as actions,
    ):
        fronts = dataclasses.replace(
            settings,
            gateway_host="127.0.0.1",
            gateway_port=gateway,
            rasa_url=f"http://127.0.0.1:{rasa}",
            action_server_url=f"http://127.0.0.1:{actions}/webhook",
        )
        assert _balancer_ready(fronts) is (unserved is None)


def test_after_a_failed_start_there_is_no_ctrl_c_to_press_only_leftovers_to_look_for(tmp_path):
    exited = subprocess.Popen(["true"], start_new_session=True)
    exited.wait()
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "rasa-1.pid").write_text(f"{exited.pid}\n")
    assert _press_ctrl_c(exited, tmp_path / "run", project_redis.Server(tmp_path / "redis")) == []


def test_a_process_left_running_after_ctrl_c_is_named(tmp_path):
    exited = subprocess.Popen(["true"], start_new_session=True)
    exited.wait()
    left = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        (tmp_path / "run").mkdir()
        (tmp_path / "run" / "gateway-2.pid").write_text(f"{left.pid}\n")
        assert _press_ctrl_c(exited, tmp_path / "run", project_redis.Server(tmp_path / "redis")) == ["gateway-2"]
        assert left.wait(10) == -signal.SIGKILL  # named, then killed: a failed run leaves nothing running
    finally:
        if left.poll() is None:
            left.kill()
            left.wait()


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs Debian's redis-server (make redis)")
def test_a_cluster_started_in_the_background_still_stops_on_ctrl_c_and_stops_its_stores(tmp_path):
    # Found when a load benchmark started with `nohup … &` ran make cluster: Python keeps an inherited ignored
    # SIGINT ignored, launched()'s Ctrl-C did nothing, and after 120 s every replica was left running.
    database = postgres.Cluster.throwaway_in_temp()
    redis_server = project_redis.Server.throwaway_in_temp()
    env = {**os.environ, "GRIDDESK_DATA_DIR": str(tmp_path)}
    for name in ("GRIDDESK_DATABASE_URL", "GRIDDESK_REDIS_URL"):
        env.pop(name, None)
    output = tmp_path / "cluster.out"
    command = [sys.executable, "-m", "ops.cluster", "--postgres-dir", str(database.directory)]
    process = processes.start([*command, "--redis-dir", str(redis_server.directory)], env, output, background=True)
    try:
        deadline = time.monotonic() + 120
        while "==> Redis:" not in output.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, output.read_text()
            time.sleep(0.2)
        assert "==> Redis:" in output.read_text(), output.read_text()  # both stores started by the cluster
        process.send_signal(signal.SIGINT)
        assert process.wait(90) in (0, 130), output.read_text()
        assert not redis_server.running()
        assert not database.running()
    finally:
        processes.kill_all(process, tmp_path / "run")
        database.remove()
        redis_server.remove()
