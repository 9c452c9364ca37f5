"""``make cluster``: GridDesk with replicas on one machine, everything on loopback, under one supervisor.

    python -m ops.cluster [--postgres-dir DIR] [--redis-dir DIR]

Starts, in this order:

- **PostgreSQL**, the one shared store (:mod:`ops.postgres`: the project's cluster on a unix socket), migrated
  and seeded like ``make run``'s database; unless ``GRIDDESK_DATABASE_URL`` already names a PostgreSQL database.
- **Redis** (:mod:`ops.redis`): the gateways' live events, Socket.IO manager, replay guards and job leases over
  its unix socket (``GRIDDESK_REDIS_URL``), and Rasa's lock store over a loopback TCP port (Rasa 3.6's
  ``RedisLockStore`` takes a host and a port, not a socket path).
- Then the supervised processes (:class:`ClusterStack`; a process that dies is restarted, :mod:`ops.supervisor`):
  two action servers, two Rasa servers (SQL tracker store on the PostgreSQL database, Redis lock store: either
  Rasa may take any turn of any conversation), two gateways and HAProxy, the load balancer, in front of each
  tier: customers and staff reach the gateways on the usual gateway port (``GRIDDESK_GATEWAY_PORT``), the gateways
  reach Rasa on the usual Rasa port and Rasa the action servers on the usual action port, each spread over the
  live replicas (health-checked every second; a connection refused is retried on the other replica).

Ctrl-C (or SIGTERM) stops the processes, then Redis and the PostgreSQL cluster this command started (their data
stays: PostgreSQL's for the next run, Redis keeps nothing by design).

Why HAProxy rather than nginx: its active health checks (nginx's free build has only passive ones) take a dead
replica out within two seconds, before a customer's request fails on it, and its ``balance source`` with
consistent hashing keeps a Socket.IO client on one gateway (see :func:`haproxy_config`).
"""

from __future__ import annotations

import argparse
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path

from gateway.health import action_server_health_url
from griddesk.private import make_private_dir, make_private_file
from griddesk.settings import REPO_ROOT, Settings, get_settings, load_settings
from ops import postgres
from ops import redis as project_redis
from ops.run import handle_stop_signals, print_urls, supervise, with_api_token
from ops.stack import (
    Service,
    Stack,
    StackError,
    _get_json,
    actions_service,
    gateway_service,
    model_or_error,
    rasa_service,
)
from ops.train_model import current_model_path

REPLICAS = 2
BALANCER_USER = "haproxy"  # Debian's system user for HAProxy: it drops root's rights to it after binding


class ClusterError(RuntimeError):
    """Something the cluster needs is missing or could not be started."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Ports:
    """Every loopback port of the cluster. The balancer holds the usual ports; the replicas sit beside them."""

    gateway: int  # the balancer's front for customers and staff (GRIDDESK_GATEWAY_PORT)
    rasa: int  # the balancer's front for Rasa: what the gateways call (GRIDDESK_RASA_PORT)
    actions: int  # the balancer's front for the action servers: what Rasa calls (GRIDDESK_ACTION_PORT)
    gateways: tuple[int, ...]
    rasas: tuple[int, ...]
    action_servers: tuple[int, ...]
    redis: int  # Redis's loopback TCP port, for Rasa's lock store only

    @classmethod
    def beside(cls, settings: Settings, redis: int, replicas: int = REPLICAS) -> Ports:
        """The usual ports for the balancer, the next ones up for the replicas (8001, 8002; 5006, 5007; 5056, 5057)."""
        return cls(
            gateway=settings.gateway_port,
            rasa=settings.rasa_port,
            actions=settings.action_port,
            gateways=tuple(settings.gateway_port + i for i in range(1, replicas + 1)),
            rasas=tuple(settings.rasa_port + i for i in range(1, replicas + 1)),
            action_servers=tuple(settings.action_port + i for i in range(1, replicas + 1)),
            redis=redis,
        )


def haproxy_config(ports: Ports, drop_to: str | None = None) -> str:
    """HAProxy's configuration: three fronts on loopback, each spreading over its replicas.

    - Gateways: round robin, except Socket.IO (``/socket.io/``): its polling transport sends one session's
      requests one by one, and only the gateway that opened the session knows it, so those requests are routed
      by a consistent hash of the client's address (``balance source``; a proxy or NAT in front puts all its
      customers on one gateway). Websockets (the customer live socket, the agent console) need no stickiness:
      the gateways share live events through Redis.
    - Rasa and the action servers: to the replica with the fewest requests in flight (turns differ in length).

    A replica failing two health checks a second apart is taken out until it passes two again. A request whose
    connection is refused is tried again on another replica (nothing reached the dead one). A request a replica
    died in the middle of is not sent twice: a gateway that lost a Rasa turn keeps the message as unanswered and
    answers it once Rasa is back (gateway/recovery.py). Requests are not logged: URLs carry customers' sender ids.
    """

    def backend(name: str, balance: str, check: str, servers: tuple[int, ...], prefix: str, track: str = "") -> str:
        """``track``: take the servers' health from this backend's checks instead of checking them again."""
        lines = [f"backend {name}", f"    balance {balance}"]
        if balance == "source":
            lines.append("    hash-type consistent")
        if not track:
            lines.append(f"    option httpchk GET {check}")
        lines += [
            f"    server {prefix}-{i} 127.0.0.1:{port} " + (f"track {track}/{prefix}-{i}" if track else "check")
            for i, port in enumerate(servers, 1)
        ]
        return "\n".join(lines) + "\n"

    drop = f"    user {drop_to}\n    group {drop_to}\n" if drop_to else ""
    return (
        "# GridDesk's cluster (ops/cluster.py): written at each start\n"
        "global\n"
        "    maxconn 4096\n"
        f"{drop}"
        "defaults\n"
        "    mode http\n"
        "    timeout connect 2s\n"
        "    timeout client 130s\n"  # above Socket.IO's 25 s ping and a slow turn's wait
        "    timeout server 130s\n"
        "    timeout tunnel 1h\n"  # websockets once upgraded
        "    timeout http-request 30s\n"
        "    timeout queue 30s\n"
        "    retries 3\n"
        "    option redispatch 1\n"
        # a check answers within 10 s: a busy replica (a Rasa working through 100 turns, a gateway whose
        # /healthz probes the database, Rasa and the actions) is slow, not dead; a dead one refuses at once
        "    timeout check 10s\n"
        "    default-server inter 1s fall 2 rise 2\n"
        "\n"
        "frontend gateway\n"
        f"    bind 127.0.0.1:{ports.gateway}\n"
        "    option forwardfor\n"
        "    acl socketio path_beg /socket.io/\n"
        "    use_backend gateways_by_client if socketio\n"
        "    default_backend gateways\n"
        "\n"
        + backend("gateways", "roundrobin", "/healthz", ports.gateways, "gateway")
        + "\n"
        + backend("gateways_by_client", "source", "/healthz", ports.gateways, "gateway", track="gateways")
        + "\n"
        "frontend rasa\n"
        f"    bind 127.0.0.1:{ports.rasa}\n"
        "    default_backend rasa\n"
        "\n"
        + backend("rasa", "leastconn", "/", ports.rasas, "rasa")  # Rasa's root answers without its token
        + "\n"
        "frontend actions\n"
        f"    bind 127.0.0.1:{ports.actions}\n"
        "    default_backend actions\n"
        "\n" + backend("actions", "leastconn", "/health", ports.action_servers, "actions")
    )


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or next(
        (path for path in ("/usr/sbin/haproxy", "/usr/bin/haproxy") if Path(path).exists()), None
    )
    if found is None:
        raise ClusterError("HAProxy is not installed: run `make haproxy` (installs Debian's haproxy)")
    return found


def _balancer_user() -> str | None:
    """Run by root, HAProxy drops to Debian's ``haproxy`` user once its ports are bound (None: stay as we are)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(BALANCER_USER).pw_name
    except KeyError:
        return None


def lock_store_env(ports: Ports) -> dict[str, str]:
    """Rasa's lock store in Redis (bot/endpoints.yml's ``GRIDDESK_LOCK_STORE*``)."""
    return {
        "GRIDDESK_LOCK_STORE": "redis",
        "GRIDDESK_LOCK_STORE_HOST": "127.0.0.1",
        "GRIDDESK_LOCK_STORE_PORT": str(ports.redis),
        "GRIDDESK_LOCK_STORE_PASSWORD": "",
    }


def _balancer_ready(settings: Settings) -> bool:
    """Every front has a replica in service (HAProxy takes one in after two passed checks): the gateways'
    ``/healthz``, Rasa's root, the action servers' ``/health``, each through the balancer."""
    return _get_json(f"{settings.gateway_url}/healthz") is not None and all(
        _answers(url) for url in (f"{settings.rasa_url}/", action_server_health_url(settings.action_server_url))
    )


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:  # refused, HAProxy's 503 (HTTPError), a timeout
        return False


class ClusterStack(Stack):
    """The cluster's supervised processes: the replicas of each tier and the balancer in front of them."""

    def __init__(self, settings: Settings, ports: Ports, redis_url: str, model: Path | None = None) -> None:
        self.ports = ports
        self.redis_url = redis_url
        super().__init__(
            replace(
                settings,
                gateway_port=ports.gateway,
                rasa_port=ports.rasa,
                rasa_url=f"http://127.0.0.1:{ports.rasa}",
                action_port=ports.actions,
                action_server_url=f"http://127.0.0.1:{ports.actions}/webhook",
            ),
            model,
        )

    def build(self, settings: Settings, model: Path | None) -> list[Service]:
        model = model_or_error(settings, model)
        ports = self.ports
        gateway_env = {
            "GRIDDESK_REDIS_URL": self.redis_url,
            "GRIDDESK_ACTION_SERVER_URL": settings.action_server_url,  # the balancer's, for /readyz
            # the balancer's X-Forwarded-For names the customer (rate limits, client identifiers)
            "GRIDDESK_TRUSTED_PROXIES": "127.0.0.1",
            # one key for all gateways, so a client has one identifier whichever gateway it reaches
            "GRIDDESK_CLIENT_KEY": settings.client_key.reveal() or secrets.token_urlsafe(32),
        }
        services = [
            actions_service(replace(settings, action_port=port), f"actions-{i}")
            for i, port in enumerate(ports.action_servers, 1)
        ]
        services += [
            rasa_service(replace(settings, rasa_port=port), model, f"rasa-{i}", lock_store_env(ports))
            for i, port in enumerate(ports.rasas, 1)
        ]
        services += [
            gateway_service(replace(settings, gateway_port=port), f"gateway-{i}", gateway_env)
            for i, port in enumerate(ports.gateways, 1)
        ]
        services.append(self._balancer(settings))
        return services

    def _balancer(self, settings: Settings) -> Service:
        config = settings.data_dir / "cluster" / "haproxy.cfg"
        make_private_dir(config.parent)
        make_private_file(config)  # HAProxy reads it before it drops root's rights
        config.write_text(haproxy_config(self.ports, _balancer_user()), encoding="utf-8")
        return Service(
            "balancer",
            [haproxy_binary(), "-db", "-f", str(config)],  # -db: in the foreground, under the supervisor
            dict(os.environ),
            lambda: _balancer_ready(settings),
            60,
            settings.data_dir / "logs" / "balancer.log",
        )

    def describe(self) -> list[str]:
        """One line per tier, for the start-up message."""
        ports = self.ports

        def listed(values: tuple[int, ...]) -> str:
            return ", ".join(f"127.0.0.1:{port}" for port in values)

        return [
            f"  Gateways: {listed(ports.gateways)} behind {self.settings.gateway_url} (HAProxy)",
            f"  Rasa:     {listed(ports.rasas)} behind {self.settings.rasa_url}"
            " (SQL tracker store on PostgreSQL, lock store in Redis)",
            f"  Actions:  {listed(ports.action_servers)} behind {self.settings.action_server_url}",
            f"  Redis:    {self.redis_url} (Rasa's locks: 127.0.0.1:{ports.redis})",
        ]


@contextmanager
def shared_stores(settings: Settings, postgres_dir: Path, redis_dir: Path) -> Iterator[tuple[str, str, int]]:
    """PostgreSQL (unless ``settings`` names a PostgreSQL database already) and Redis, started for the cluster and
    stopped after it if this started them. Yields the database URL, Redis's socket URL and its TCP port."""
    cluster = None if settings.database_url.startswith("postgresql") else postgres.Cluster(postgres_dir)
    server = project_redis.Server(redis_dir)
    started: list[object] = []
    try:
        if cluster is not None:
            if not cluster.running():
                started.append(cluster)
            cluster.start()
            cluster.create_database(postgres.DATABASE)
        if server.running():
            port = server.tcp_port()
            if port is None:
                raise ClusterError(
                    f"Redis in {redis_dir} runs without a TCP port, which Rasa's lock store needs: "
                    "stop it (python -m ops.redis stop) and start the cluster again"
                )
        else:
            port = free_port()
            started.append(server)
            server.start(port=port)
        yield (cluster.url() if cluster is not None else settings.database_url), server.url(), port
    except (postgres.PostgresError, project_redis.RedisError) as exc:
        raise ClusterError(str(exc)) from exc
    finally:
        if server in started:
            server.stop()
        if cluster is not None and cluster in started:
            cluster.stop()


def migrate(settings: Settings, database_url: str) -> None:
    """``ops.setup_db`` on the cluster's database (migrations, seed grids, staff, demo knowledge base)."""
    env = {**os.environ, **settings.source_env, "GRIDDESK_DATABASE_URL": database_url}
    result = subprocess.run([sys.executable, "-m", "ops.setup_db"], env=env, cwd=REPO_ROOT, check=False)
    if result.returncode != 0:
        raise ClusterError(f"the database set-up failed (exit {result.returncode}); see the output above")


def port_block(size: int) -> int:
    """A port ``p`` with ``p`` … ``p + size - 1`` all free on loopback (the cluster puts its replicas beside it)."""
    for _ in range(200):
        base = free_port()
        if base + size > 65535:
            continue
        sockets = []
        try:
            for port in range(base, base + size):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
        return base
    raise ClusterError("no block of free ports on loopback")


@dataclass
class Launched:
    """``python -m ops.cluster`` running as a child process (:func:`launched`)."""

    process: subprocess.Popen[bytes]
    data_dir: Path
    settings: Settings  # the balancer's URLs (gateway, Rasa, actions) and the database
    output: Path  # what the cluster printed

    def replica_url(self, gateway: int) -> str:
        """Gateway ``gateway`` (1, 2) itself, not the balancer."""
        return f"http://127.0.0.1:{self.settings.gateway_port + gateway}"

    def pid(self, name: str) -> int:
        return int((self.data_dir / "run" / f"{name}.pid").read_text())

    def wait_for(self, condition: Callable[[], bool], seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                raise ClusterError(f"{what}: the cluster exited; its output:\n{self.tail()}")
            time.sleep(0.5)
        raise ClusterError(f"{what}: not within {seconds:.0f} s; the cluster's output:\n{self.tail()}")

    def tail(self) -> str:
        return self.output.read_text(errors="replace")[-3000:]


@contextmanager
def launched(
    data_dir: Path,
    env: Mapping[str, str],
    prepare: Callable[[Settings], None] = lambda _settings: None,
    start_seconds: float = 900,
) -> Iterator[Launched]:
    """The real ``python -m ops.cluster`` in a child process (tests, benchmarks): a throwaway PostgreSQL cluster
    and Redis server, free loopback ports, ``data_dir`` for its data. ``prepare`` runs on the migrated database
    before the cluster starts. Yields once the cluster is running; then presses Ctrl-C (SIGINT to its process
    group, as a terminal does), removes the stores and raises :class:`ClusterError` if anything it started was
    left running (a process of any tier, or Redis)."""
    database = postgres.Cluster.throwaway_in_temp()
    redis_server = project_redis.Server.throwaway_in_temp()
    child_env = {
        **env,
        "GRIDDESK_DATA_DIR": str(data_dir),
        "GRIDDESK_GATEWAY_PORT": str(port_block(REPLICAS + 1)),
        "GRIDDESK_RASA_PORT": str(port_block(REPLICAS + 1)),
        "GRIDDESK_ACTION_PORT": str(port_block(REPLICAS + 1)),
    }
    for name in ("GRIDDESK_RASA_URL", "GRIDDESK_ACTION_SERVER_URL", "GRIDDESK_REDIS_URL"):
        child_env.pop(name, None)
    output = data_dir / "cluster.out"
    process = None
    left: list[str] = []
    try:
        database.start()
        database.create_database(postgres.DATABASE)
        child_env["GRIDDESK_DATABASE_URL"] = database.url()
        settings = load_settings(child_env)
        if not current_model_path(settings).exists():
            subprocess.run([sys.executable, "-m", "ops.train_model"], check=True, env=child_env, cwd=REPO_ROOT)
        setup = [sys.executable, "-m", "ops.setup_db"]
        subprocess.run(setup, check=True, env=child_env, cwd=REPO_ROOT, capture_output=True)
        prepare(settings)
        with output.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "ops.cluster", "--redis-dir", str(redis_server.directory)],
                env=child_env,
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        running = Launched(process, data_dir, settings, output)
        running.wait_for(lambda: "GridDesk is running" in output.read_text(), start_seconds, "the cluster's start")
        yield running
    finally:
        try:
            if process is not None:
                left = _press_ctrl_c(process, data_dir / "run", redis_server)
        finally:
            database.remove()
            redis_server.remove()
    if left:
        said = output.read_text(errors="replace")[-3000:] if output.exists() else ""
        raise ClusterError(f"still running after Ctrl-C: {', '.join(left)}; the cluster's output:\n{said}")


def _press_ctrl_c(process: subprocess.Popen[bytes], pid_dir: Path, redis_server: project_redis.Server) -> list[str]:
    """SIGINT to ``ops.cluster``'s process group, as Ctrl-C in a terminal; what is left running after it exits.
    Nothing to press when it has exited already (a failed start): only what it left is looked for. What is named
    is then killed (SIGKILL to its process group), so a failed run leaves nothing behind; Redis is stopped by
    the caller."""
    stuck = []
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(120)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        stuck = ["ops.cluster itself (killed after 120 s)"]
    left = []
    for path in sorted(pid_dir.glob("*.pid")):
        group = int(path.read_text())
        if _group_alive(group):
            left.append(path.stem)
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
    return stuck + left + (["Redis"] if redis_server.running() else [])


def _group_alive(group: int) -> bool:
    """Whether any process of this process group (a service and whatever it started) still runs."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user took the number
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-dir", type=Path, help="the PostgreSQL cluster's folder (default: ops.postgres's)")
    parser.add_argument("--redis-dir", type=Path, help="the Redis server's folder (default: ops.redis's)")
    args = parser.parse_args(argv)
    handle_stop_signals()  # stops the stores too when it comes during their start
    settings, generated = with_api_token(get_settings())
    try:
        postgres_dir = (args.postgres_dir or postgres.default_dir()).resolve()
        redis_dir = (args.redis_dir or project_redis.default_dir()).resolve()
        haproxy_binary()
        with shared_stores(settings, postgres_dir, redis_dir) as (database_url, redis_url, redis_port):
            print(f"==> PostgreSQL: {database_url}\n==> Redis: {redis_url} (and 127.0.0.1:{redis_port})", flush=True)
            migrate(settings, database_url)
            configured = replace(settings, database_url=database_url)
            stack = ClusterStack(configured, Ports.beside(configured, redis_port), redis_url)
            print(
                f"==> starting {REPLICAS} action servers, {REPLICAS} Rasa servers, {REPLICAS} gateways and the "
                "load balancer (Rasa takes a minute or two to load)",
                flush=True,
            )

            def announce() -> None:
                print_urls(stack.settings, generated)
                print("\n".join(stack.describe()))

            return supervise(stack, announce)
    except (ClusterError, StackError) as exc:
        print(f"ops.cluster: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\n==> stopped")
        return 130


if __name__ == "__main__":
    sys.exit(main())
