"""Run the gateway: ``python -m gateway`` (host and port from GRIDDESK_GATEWAY_HOST/PORT)."""

from __future__ import annotations

import logging

from aiohttp import web

from gateway.app import create_app
from griddesk.settings import get_settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s gateway %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    web.run_app(
        create_app(settings), host=settings.gateway_host, port=settings.gateway_port, print=None, access_log=None
    )


if __name__ == "__main__":
    main()
