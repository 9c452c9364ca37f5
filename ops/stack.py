"""Start and stop GridDesk's three processes: Rasa, the action server and the gateway.

Used by ``make run`` (:mod:`ops.run`) and by the integration tests, so both run the product
the same way. Each process logs to ``$GRIDDESK_DATA_DIR/logs/<name>.log`` (folder 0700, files 0600: logs
may quote what customers typed).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from griddesk.private import open_private_append
from griddesk.settings import REPO_ROOT, Secret, Settings
from ops.train_model import BOT_DIR, bot_env, bot_python, current_model_path


class StackError(RuntimeError):
    """A process did not start or did not become ready."""


@dataclass
class Service:
    name: str
    argv: list[str]
    env: dict[str, str]
    ready: Callable[[], bool]
    timeout: float
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        log = open_private_append(self.log_path)
        try:
            self.process = subprocess.Popen(
                self.argv,
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            os.close(log)
        self.pid_path.parent.mkdir(parents=True, exist_ok=True)
        self.pid_path.write_text(f"{self.process.pid}\n")

    @property
    def pid_path(self) -> Path:
        """``$GRIDDESK_DATA_DIR/run/<name>.pid``: the running process (for operators and tests)."""
        return self.log_path.parent.parent / "run" / f"{self.name}.pid"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, grace: float = 10.0) -> None:
        if not self.alive():
            return
        assert self.process is not None
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _get_json(url: str) -> object | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.loads(response.read()) if response.status == 200 else None
    except (urllib.error.URLError, OSError, ValueError):
        return None


def app_env(settings: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(settings.source_env)  # every GRIDDESK_* setting the stack was configured with
    env.update(
        GRIDDESK_DATA_DIR=str(settings.data_dir),
        GRIDDESK_DATABASE_URL=settings.database_url,
        GRIDDESK_ACTION_PORT=str(settings.action_port),
        GRIDDESK_RASA_URL=settings.rasa_url,
        GRIDDESK_GATEWAY_HOST=settings.gateway_host,
        GRIDDESK_GATEWAY_PORT=str(settings.gateway_port),
        GRIDDESK_ENCODER=settings.encoder,
        GRIDDESK_API_TOKEN=settings.api_token.reveal(),
        GRIDDESK_RASA_TOKEN=settings.rasa_token.reveal(),
        HF_HUB_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    env.update(extra or {})
    return env


def with_rasa_token(settings: Settings) -> Settings:
    """The settings with a Rasa API token: the configured one, or a random one for this run. Rasa's HTTP
    API (trackers with their slots, /model/parse) then answers only to holders of the token."""
    if settings.rasa_token:
        return settings
    token = secrets.token_urlsafe(32)
    return replace(settings, rasa_token=Secret(token), source_env={**settings.source_env, "GRIDDESK_RASA_TOKEN": token})


def model_or_error(settings: Settings, model: Path | None = None) -> Path:
    """The trained model to serve (the current one unless given); :class:`StackError` if it is missing."""
    model = model or current_model_path(settings)
    if not model.exists():
        raise StackError(f"no trained Rasa model at {model}: run `make model` first")
    return model


def actions_service(settings: Settings, name: str = "actions") -> Service:
    """The action server on ``settings.action_port``."""
    return Service(
        name,
        [sys.executable, "-m", "actions"],
        app_env(settings),
        lambda: _get_json(f"http://127.0.0.1:{settings.action_port}/health") is not None,
        120,
        settings.data_dir / "logs" / f"{name}.log",
    )


def rasa_service(
    settings: Settings, model: Path, name: str = "rasa", lock_store: dict[str, str] | None = None
) -> Service:
    """A Rasa server on ``settings.rasa_port`` (loopback, its HTTP API behind the token), calling the action
    server at ``settings.action_server_url``; ``lock_store``: see :func:`ops.train_model.bot_env`."""
    token = settings.rasa_token.reveal()
    return Service(
        name,
        [
            bot_python(settings),
            str(REPO_ROOT / "ops" / "rasa_run.py"),  # `rasa run` without two per-turn costs (see there)
            "run",
            "--model",
            str(model),
            "--enable-api",
            f"--auth-token={token}",  # one word: a random token may start with "-"
            "--interface",
            "127.0.0.1",
            "--port",
            str(settings.rasa_port),
            "--credentials",
            str(BOT_DIR / "credentials.yml"),
            "--endpoints",
            str(BOT_DIR / "endpoints.yml"),
        ],
        bot_env(settings, lock_store),
        lambda: (
            isinstance(s := _get_json(f"http://127.0.0.1:{settings.rasa_port}/status?token={token}"), dict)
            and bool(s.get("model_id"))
        ),
        300,
        settings.data_dir / "logs" / f"{name}.log",
    )


def gateway_service(settings: Settings, name: str = "gateway", extra: dict[str, str] | None = None) -> Service:
    """The gateway on ``settings.gateway_port``, talking to Rasa at ``settings.rasa_url``."""
    return Service(
        name,
        [sys.executable, "-m", "gateway"],
        app_env(settings, extra),
        lambda: _get_json(f"{settings.gateway_url}/healthz") is not None,
        60,
        settings.data_dir / "logs" / f"{name}.log",
    )


def build_services(settings: Settings, model: Path | None = None) -> list[Service]:
    """``make run``'s three processes: one action server, one Rasa, one gateway."""
    model = model_or_error(settings, model)
    return [actions_service(settings), rasa_service(settings, model), gateway_service(settings)]


class Stack:
    """The processes (by default the three of ``make run``), started together and stopped together."""

    def __init__(self, settings: Settings, model: Path | None = None) -> None:
        self.settings = with_rasa_token(settings)
        self.services = self.build(self.settings, model)

    def build(self, settings: Settings, model: Path | None) -> list[Service]:
        """The processes to run (a subclass runs others: :class:`ops.cluster.ClusterStack`)."""
        return build_services(settings, model)

    def start(self, report: Callable[[str], object] = print) -> None:
        for service in self.services:
            service.start()
        try:
            for service in self.services:
                self._wait_ready(service, report)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, service: Service, report: Callable[[str], object]) -> None:
        deadline = time.monotonic() + service.timeout
        while time.monotonic() < deadline:
            if not service.alive():
                raise StackError(f"{service.name} exited during start-up; last log lines:\n{service.tail()}")
            if service.ready():
                report(f"    {service.name} ready")
                return
            time.sleep(0.5)
        raise StackError(f"{service.name} not ready after {service.timeout:.0f} s; last log lines:\n{service.tail()}")

    def restart(self, name: str) -> None:
        """Stop one service if it runs, start it again and wait until it is ready."""
        service = self.service(name)
        service.stop()
        service.start()
        self._wait_ready(service, lambda _line: None)

    def first_dead(self) -> Service | None:
        return next((s for s in self.services if not s.alive()), None)

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)
