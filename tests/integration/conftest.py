"""The real product for integration tests: Rasa, the action server and the gateway, started once
per session on free loopback ports with a data directory of their own (trained model reused)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from griddesk.settings import Settings, load_settings
from ops.stack import Stack
from ops.train_model import current_model_path
from tests.integration.client import IDENTITY_SECRET
from tests.integration.platforms import Platforms

API_TOKEN = "integration-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def platforms() -> Iterator[Platforms]:
    """Local stand-ins for the Telegram Bot API and the WeCom API (the real services are unreachable
    here), serving in a thread of their own for the whole session; the stack is configured to use them."""
    fakes = Platforms.start()
    yield fakes
    fakes.stop()


@pytest.fixture(scope="session")
def shop_ports() -> dict[str, int]:
    """Ports for the companies' own pages (another origin than the gateway's) that embed the GridDesk widget
    or rasa-webchat: reserved before the stack starts, so GRIDDESK_WIDGET_ORIGINS can list them."""
    return {"widget": free_port(), "webchat": free_port()}


def shop_origin(port: int) -> str:
    return f"http://localhost:{port}"  # another origin than the gateway's 127.0.0.1


@pytest.fixture(scope="session")
def stack_settings(
    tmp_path_factory: pytest.TempPathFactory,
    platforms: Platforms,
    shop_ports: dict[str, int],
    stack_database_url: str | None,
) -> Settings:
    data_dir = tmp_path_factory.mktemp("stack")
    env = {
        **os.environ,
        "GRIDDESK_DATA_DIR": str(data_dir),
        "GRIDDESK_GATEWAY_PORT": str(free_port()),
        "GRIDDESK_RASA_PORT": str(free_port()),
        "GRIDDESK_ACTION_PORT": str(free_port()),
        "GRIDDESK_API_TOKEN": API_TOKEN,
        "GRIDDESK_IDENTITY_SECRET": IDENTITY_SECRET,
        # every simulated customer of the session comes from 127.0.0.1: the per-address limits are those of
        # a busy office, the per-conversation ones stay the defaults (tests/gateway/channels/test_rate_limits.py)
        "GRIDDESK_RATE_MESSAGES_PER_ADDRESS": "2000",
        "GRIDDESK_RATE_HANDOFFS_PER_ADDRESS": "200",
        "GRIDDESK_WIDGET_ORIGINS": " ".join(shop_origin(port) for port in shop_ports.values()),
        **platforms.settings_env(),
    }
    env.pop("GRIDDESK_DATABASE_URL", None)
    if stack_database_url:  # pytest --db=postgresql (tests/database.py); else SQLite in the data directory
        env["GRIDDESK_DATABASE_URL"] = stack_database_url
    env.pop("GRIDDESK_RASA_URL", None)
    env.pop("GRIDDESK_ACTION_SERVER_URL", None)
    settings = load_settings(env)
    if not current_model_path(settings).exists():
        subprocess.run([sys.executable, "-m", "ops.train_model"], check=True, env=env)
    subprocess.run([sys.executable, "-m", "ops.setup_db"], check=True, env=env, capture_output=True)
    always_open(settings)
    return settings


def always_open(settings: Settings) -> None:
    """Human service around the clock, so handoff tests do not depend on the hour CI runs at
    (business hours themselves are tested in tests/grids/test_hours.py and tests/actions/test_human.py)."""
    from sqlalchemy import update

    from griddesk.db import make_engine
    from grids.models import Grid

    engine = make_engine(settings.database_url)
    with engine.begin() as connection:
        connection.execute(update(Grid).values(business_hours={}))
    engine.dispose()


@pytest.fixture(scope="session")
def stack(stack_settings: Settings) -> Iterator[Stack]:
    stack = Stack(stack_settings)
    stack.start(report=lambda _line: None)
    yield stack
    stack.stop()


CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (one per test module)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("Debian's chromium is not on PATH: run `make browser` (make test does)")
    return path
