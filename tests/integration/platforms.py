"""The messaging platforms' fakes (tests/gateway/channels/fake_*.py) served for the real stack."""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass, field

from aiohttp import web

from tests.gateway.channels import fake_wecom
from tests.gateway.channels.fake_telegram import FakeTelegram

TELEGRAM_TOKEN = "123456:integration-token"
TELEGRAM_SECRET = "integration-secret"
WECOM_TOKEN = "QDG6eK"  # the platform's documented sample values
WECOM_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
WECOM_AGENT_ID = "1000002"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Platforms:
    telegram: FakeTelegram
    wecom: fake_wecom.FakeWeCom
    ports: dict[str, int] = field(default_factory=dict)
    loop: asyncio.AbstractEventLoop | None = None
    thread: threading.Thread | None = None
    runners: list[web.AppRunner] = field(default_factory=list)

    @classmethod
    def start(cls) -> Platforms:
        fakes = cls(FakeTelegram(TELEGRAM_TOKEN), fake_wecom.FakeWeCom())
        fakes.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(fakes.loop)
            for name, app in (("telegram", fakes.telegram.app()), ("wecom", fakes.wecom.app())):
                runner = web.AppRunner(app)
                fakes.loop.run_until_complete(runner.setup())
                port = _free_port()
                fakes.loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
                fakes.ports[name] = port
                fakes.runners.append(runner)
            fakes.telegram.url = fakes.url("telegram")
            fakes.wecom.url = fakes.url("wecom")
            ready.set()
            fakes.loop.run_forever()

        fakes.thread = threading.Thread(target=serve, daemon=True)
        fakes.thread.start()
        ready.wait(10)
        return fakes

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def settings_env(self) -> dict[str, str]:
        return {
            "GRIDDESK_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
            "GRIDDESK_TELEGRAM_SECRET": TELEGRAM_SECRET,
            "GRIDDESK_TELEGRAM_API_URL": self.url("telegram"),
            "GRIDDESK_WECOM_CORP_ID": fake_wecom.CORP_ID,
            "GRIDDESK_WECOM_AGENT_ID": WECOM_AGENT_ID,
            "GRIDDESK_WECOM_SECRET": fake_wecom.SECRET,
            "GRIDDESK_WECOM_TOKEN": WECOM_TOKEN,
            "GRIDDESK_WECOM_AES_KEY": WECOM_AES_KEY,
            "GRIDDESK_WECOM_API_URL": self.url("wecom"),
        }

    def stop(self) -> None:
        assert self.loop is not None
        for runner in self.runners:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        if self.thread is not None:
            self.thread.join(10)
        self.loop.close()
